// deploy/ cannot run here (no systemd session, no docker daemon), so its files are parsed and
// checked against what the node really accepts: the CLI's flags, the env file's variables, and
// the log-capture hook run against a fake journalctl.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { MALLOC_TUNABLE, NODE_RUNTIME_FLAGS } from "@metronome/common";
import { buildCli } from "../../src/cli/index.ts";

const DEPLOY = fileURLToPath(new URL("../../../../deploy/", import.meta.url));

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  number: number;
}

/** Drops a trailing comment that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || line[i - 1] === " ")) {
      return line.slice(0, i).trimEnd();
    }
  }
  return line.trimEnd();
}

function yamlScalar(raw: string, line: number): string {
  if (raw.startsWith('"')) {
    assert.ok(raw.endsWith('"') && raw.length >= 2, `line ${line}: unterminated string`);
    return JSON.parse(raw) as string;
  }
  if (raw.startsWith("'")) {
    assert.ok(raw.endsWith("'") && raw.length >= 2, `line ${line}: unterminated string`);
    return raw.slice(1, -1).replaceAll("''", "'");
  }
  assert.ok(!/^[[{&*!|>%@`]/.test(raw), `line ${line}: unsupported YAML construct "${raw}"`);
  return raw;
}

/**
 * The YAML the deploy files use: block mappings, block sequences of scalars, plain/quoted scalars,
 * comments. Anything else (tabs, flow collections, anchors, bad indentation, duplicate keys) fails.
 */
function parseYamlSubset(text: string): Yaml {
  const lines: Line[] = [];
  text.split("\n").forEach((raw, i) => {
    assert.ok(!raw.includes("\t"), `line ${i + 1}: tab character`);
    const stripped = stripComment(raw);
    if (stripped.trim() === "") return;
    lines.push({ indent: stripped.length - stripped.trimStart().length, text: stripped.trim(), number: i + 1 });
  });
  let pos = 0;
  const block = (indent: number): Yaml => {
    const first = lines[pos] as Line;
    return first.text.startsWith("- ") ? sequence(indent) : mapping(indent);
  };
  const sequence = (indent: number): Yaml[] => {
    const out: Yaml[] = [];
    while (pos < lines.length && (lines[pos] as Line).indent === indent && (lines[pos] as Line).text.startsWith("- ")) {
      const line = lines[pos] as Line;
      const item = line.text.slice(2).trim();
      if (/^[A-Za-z0-9_.-]+:(\s|$)/.test(item)) {
        // "- key: value" opens a mapping whose keys sit two columns right of the dash.
        lines[pos] = { indent: indent + 2, text: item, number: line.number };
        out.push(mapping(indent + 2));
      } else {
        pos++;
        out.push(yamlScalar(item, line.number));
      }
    }
    return out;
  };
  const mapping = (indent: number): { [key: string]: Yaml } => {
    const out: { [key: string]: Yaml } = {};
    while (pos < lines.length && (lines[pos] as Line).indent === indent) {
      const line = lines[pos++] as Line;
      const m = /^([A-Za-z0-9_.-]+):(?:\s+(.+))?$/.exec(line.text);
      assert.ok(m, `line ${line.number}: expected "key: value", got "${line.text}"`);
      const key = m[1] as string;
      assert.ok(!(key in out), `line ${line.number}: duplicate key ${key}`);
      if (m[2] !== undefined) out[key] = yamlScalar(m[2], line.number);
      else if (pos < lines.length && (lines[pos] as Line).indent > indent)
        out[key] = block((lines[pos] as Line).indent);
      else out[key] = null;
    }
    return out;
  };
  const doc = block(0);
  assert.equal(pos, lines.length, `line ${lines[pos]?.number}: unexpected indentation`);
  return doc;
}

/** systemd unit: sections of Key=Value, backslash continuations joined, repeated keys kept. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  const joined = text.replace(/\\\n/g, " ");
  for (const [i, raw] of joined.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && current, `unit line ${i + 1}: expected Key=Value inside a section: ${line}`);
    const values = current.get(kv[1] as string) ?? [];
    values.push((kv[2] as string).trim());
    current.set(kv[1] as string, values);
  }
  return sections;
}

function nodeCommandFlags(): Set<string> {
  const command = buildCli().commands.find((c) => c.name() === "node");
  assert.ok(command);
  return new Set(command.options.map((o) => o.long ?? ""));
}

function assertKnownFlags(args: string[], where: string): void {
  const known = nodeCommandFlags();
  for (const arg of args) if (arg.startsWith("--")) assert.ok(known.has(arg), `${where}: unknown flag ${arg}`);
  for (const required of ["--genesis", "--node-id", "--data-dir"])
    assert.ok(args.includes(required), `${where}: ${required}`);
}

describe("deploy/docker-compose.yml", () => {
  const compose = parseYamlSubset(readFileSync(join(DEPLOY, "docker-compose.yml"), "utf8")) as Record<string, Yaml>;
  const node = (compose.services as Record<string, Record<string, Yaml>>).node as Record<string, Yaml>;

  it("runs the repo on node:24 and restarts unless stopped", () => {
    assert.equal(node.image, "node:24");
    assert.equal(node.restart, "unless-stopped");
    assert.ok(
      (node.volumes as string[]).some((v) => /^\.\.:\/app(:ro)?$/.test(v)),
      "the repo is mounted at /app",
    );
    assert.equal(node.working_dir, "/app");
    assert.ok(Number.parseInt(String(node.stop_grace_period), 10) > 8, "longer than the node's own 8 s shutdown");
  });

  it("starts the node command with flags the CLI accepts", () => {
    const command = node.command as string[];
    const script = 1 + NODE_RUNTIME_FLAGS.length;
    assert.deepEqual(command.slice(0, script + 2), [
      "node",
      ...NODE_RUNTIME_FLAGS,
      "packages/node/src/bin/metronome.ts",
      "node",
    ]);
    assertKnownFlags(command.slice(script), "compose command");
    assert.equal((node.environment as Record<string, Yaml>).GLIBC_TUNABLES, MALLOC_TUNABLE);
    // Every interpolated variable has a default, so a bare `up` never runs with an empty flag.
    for (const value of JSON.stringify(compose).match(/\$\{[^}]*\}/g) ?? []) assert.match(value, /:-/, value);
  });

  it("checks /lean/v0/health and bounds its logs", () => {
    const health = node.healthcheck as Record<string, Yaml>;
    const test = health.test as string[];
    assert.equal(test[0], "CMD");
    assert.ok(test.some((t) => t.includes("/lean/v0/health")));
    const logging = node.logging as Record<string, Record<string, string>>;
    assert.ok(logging.options?.["max-size"] && logging.options["max-file"]);
  });

  it("the YAML subset parser rejects what it does not understand", () => {
    assert.throws(() => parseYamlSubset("a:\n\tb: 1"), /tab/);
    assert.throws(() => parseYamlSubset("a: 1\na: 2"), /duplicate/);
    assert.throws(() => parseYamlSubset("a: [1, 2]"), /unsupported/);
    assert.throws(() => parseYamlSubset("a:\n    b: 1\n  c: 2"), /indentation/);
    assert.deepEqual(parseYamlSubset("a: 'it''s' # c\nb:\n  - \"x # y\"\n  - k: v\n    l:\n      m: n\n"), {
      a: "it's",
      b: ["x # y", { k: "v", l: { m: "n" } }],
    });
  });
});

describe("deploy/prometheus-alerts.yml", () => {
  const doc = parseYamlSubset(readFileSync(join(DEPLOY, "prometheus-alerts.yml"), "utf8")) as Record<string, Yaml>;
  const rules = ((doc.groups as Record<string, Yaml>[])[0]?.rules ?? []) as Record<string, Yaml>[];
  const rule = (name: string) => {
    const found = rules.find((r) => r.alert === name);
    assert.ok(found, name);
    return found as Record<string, string> & { labels: Record<string, string> };
  };

  it("alerts on a stalled head at 2 min (warning) and 5 min (critical)", () => {
    assert.match(rule("MetronomeHeadStalled").expr, /changes\(lean_head_slot\[2m\]\) == 0/);
    assert.equal(rule("MetronomeHeadStalled").labels.severity, "warning");
    assert.match(rule("MetronomeHeadStalledCritical").expr, /changes\(lean_head_slot\[5m\]\) == 0/);
    assert.equal(rule("MetronomeHeadStalledCritical").labels.severity, "critical");
  });

  it("alerts on zero peers for 60 s and on the drop counters' rate", () => {
    assert.match(rule("MetronomeNoPeers").expr, /lean_connected_peers\) == 0/);
    assert.equal(rule("MetronomeNoPeers").for, "60s");
    assert.match(rule("MetronomeDropsHigh").expr, /_dropped_total.*\[5m\]\)\) > 1000/);
    for (const r of rules) assert.ok(r.expr && (r.labels as Record<string, string>)?.severity, String(r.alert));
  });

  it("alerts on a network worker that keeps being restarted, and on its heap near the limit", () => {
    assert.match(
      rule("MetronomeNetworkWorkerRestarts").expr,
      /increase\(metronome_network_thread_restarts_total\[30m\]\) > 2/,
    );
    const nearLimit = rule("MetronomeNetworkHeapNearLimit");
    assert.match(
      nearLimit.expr,
      /\{kind="used"\} \/ ignoring \(kind\) \(metronome_network_thread_heap_bytes\{kind="limit"\} > 0\) > 0\.8/,
    );
    assert.equal(nearLimit.for, "5m");
  });

  it("alerts on the driver thread's heap near its limit, past which the process stops", () => {
    const nearLimit = rule("MetronomeDriverHeapNearLimit");
    assert.match(
      nearLimit.expr,
      /nodejs_heap_size_used_bytes \/ \(metronome_driver_thread_heap_limit_bytes > 0\) > 0\.8/,
    );
    assert.equal(nearLimit.for, "5m");
    assert.equal(nearLimit.labels.severity, "critical");
  });
});

describe("deploy/metronome-node.service", () => {
  const unit = parseUnit(readFileSync(join(DEPLOY, "metronome-node.service"), "utf8"));
  const service = unit.get("Service") as Map<string, string[]>;

  it("restarts always, after a pause, and gives the node time to stop", () => {
    assert.deepEqual(service.get("Restart"), ["always"]);
    assert.ok(Number(service.get("RestartSec")?.[0]) > 0);
    assert.deepEqual(service.get("KillSignal"), ["SIGTERM"]);
    assert.ok(Number(service.get("TimeoutStopSec")?.[0]) > 8);
    assert.deepEqual(unit.get("Unit")?.get("StartLimitIntervalSec"), ["0"]);
    assert.deepEqual(unit.get("Install")?.get("WantedBy"), ["multi-user.target"]);
  });

  it("starts the node command with flags the CLI accepts, from variables the env file defines", () => {
    const exec = service.get("ExecStart")?.[0] ?? "";
    const args = exec.split(/\s+/);
    const script = 1 + NODE_RUNTIME_FLAGS.length;
    assert.deepEqual(args.slice(1, script), [...NODE_RUNTIME_FLAGS], exec);
    assert.ok(args[script] === "packages/node/src/bin/metronome.ts" && args[script + 1] === "node", exec);
    assertKnownFlags(args.slice(script), "ExecStart");
    assert.ok(service.get("Environment")?.includes(`GLIBC_TUNABLES=${MALLOC_TUNABLE}`), "GLIBC_TUNABLES");
    const env = readFileSync(join(DEPLOY, "node.env.example"), "utf8");
    for (const [, name] of exec.matchAll(/\$\{([A-Z_]+)\}/g))
      assert.match(env, new RegExp(`^${name}=`, "m"), `${name}`);
  });

  it("captures logs with the shipped, executable hook", () => {
    const hook = service.get("ExecStopPost")?.[0] ?? "";
    assert.match(hook, /^\+\/opt\/metronome\/deploy\/capture-logs\.sh\b/);
    accessSync(join(DEPLOY, "capture-logs.sh"), constants.X_OK);
  });
});

describe("deploy/capture-logs.sh", () => {
  const work = mkdtempSync(join(tmpdir(), "metronome-capture-"));
  after(() => rmSync(work, { recursive: true, force: true }));
  const bin = join(work, "bin");
  const out = join(work, "out");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "journalctl"), '#!/bin/sh\necho "fake journal for $*"\n');
  chmodSync(join(bin, "journalctl"), 0o755);

  const run = (env: Record<string, string>) =>
    spawnSync("sh", [join(DEPLOY, "capture-logs.sh"), "metronome-node.service"], {
      env: { PATH: `${bin}:/usr/bin:/bin`, METRONOME_CAPTURE_DIR: out, METRONOME_CAPTURE_KEEP: "2", ...env },
      encoding: "utf8",
    });

  it("skips a clean stop, saves the journal after a crash, and keeps only the newest captures", () => {
    assert.equal(run({ SERVICE_RESULT: "success" }).status, 0);
    assert.throws(() => readdirSync(out));
    const crashed = run({ SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "70" });
    assert.equal(crashed.status, 0, crashed.stderr);
    const file = crashed.stdout.trim();
    const text = readFileSync(file, "utf8");
    assert.match(text, /result=exit-code exit_code=exited exit_status=70/);
    assert.match(text, /fake journal for -u metronome-node\.service --since/);
    for (let i = 0; i < 3; i++) assert.equal(run({ SERVICE_RESULT: "signal" }).status, 0);
    assert.equal(readdirSync(out).length, 2);
  });
});

// `metronome devnet --netns --nodes 4` as an operator runs it: each node in its own namespace on
// its own address, the chain finalizes, peers see each other's distinct addresses, and after
// Ctrl-C (SIGINT) or SIGTERM no namespace, link or iptables rule is left; a killed run's leftovers
// are removed by the next start. Root only (CI runs as root); skipped with the reason otherwise.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { fetchHealth, type NodeHealth } from "../packages/devnet/src/health.ts";
import { addressOf, namespaceOf, planNetns } from "../packages/devnet/src/netnsPlan.ts";
import { leftovers, NetnsNetwork, netnsUnavailableReason } from "../packages/devnet/src/netnsRuntime.ts";
import { DEFAULT_BASE_HTTP_PORT } from "../packages/devnet/src/ports.ts";

const METRONOME = fileURLToPath(new URL("../packages/node/src/bin/metronome.ts", import.meta.url));
const NODES = 4;
/** The devnet default (5052 + k): bound on each node's namespace address, it cannot collide with the host. */
const HTTP_PORT = DEFAULT_BASE_HTTP_PORT;
const POLL_MS = 250;
const skip = netnsUnavailableReason() ?? false;

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

const runs = new Set<Run>();

interface Run {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
  dir: string;
}

async function startDevnet(name: string): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), `metronome-netns-${name}-`));
  const child = spawn(
    process.execPath,
    [
      METRONOME,
      "devnet",
      "--netns",
      "--nodes",
      String(NODES),
      "--validators",
      "32",
      "--slot-seconds",
      "1",
      "--genesis-delay",
      "5",
      "--quiet",
      "--out",
      join(dir, "devnet"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const run = { child, exited, output: () => out, dir };
  runs.add(run);
  void exited.then(() => runs.delete(run));
  return run;
}

/** Runs `body` against a fresh devnet; whatever happens, the devnet is stopped before the next test. */
async function withDevnet(name: string, body: (run: Run) => Promise<void>): Promise<void> {
  const run = await startDevnet(name);
  try {
    await body(run);
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  }
}

async function pollHealth(
  pred: (hs: (NodeHealth | null)[]) => boolean,
  what: string,
  deadlineMs: number,
  run: Run,
): Promise<(NodeHealth | null)[]> {
  const deadline = Date.now() + deadlineMs;
  let last: (NodeHealth | null)[] = [];
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`devnet exited early:\n${run.output()}`);
    last = await Promise.all(
      Array.from({ length: NODES }, (_, k) => fetchHealth(`http://${addressOf(k)}:${HTTP_PORT + k}/lean/v0/health`)),
    );
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last.map((h) => h?.finalized_slot ?? null))}`);
}

async function stopAndCheck(run: Run, signal: NodeJS.Signals): Promise<void> {
  run.child.kill(signal);
  const code = await Promise.race([
    run.exited,
    new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 45_000).unref()),
  ]);
  assert.notEqual(code, "timeout", `devnet did not stop within 45 s of ${signal}:\n${run.output()}`);
  assert.equal(code, 0, run.output());
  assert.deepEqual(leftovers(), [], `left behind after ${signal}`);
  assert.match(run.output(), /netns removed \(no namespace, link or rule left\)/);
  await rm(run.dir, { recursive: true, force: true });
}

describe("devnet --netns: separate addresses on one machine", { skip }, () => {
  // A failed test still stops its devnet the way an operator would, so the network is torn down.
  after(async () => {
    await Promise.all(
      [...runs].map(async (r) => {
        r.child.kill("SIGTERM");
        await r.exited;
      }),
    );
  });

  it("4 nodes on 10.99.0.10-13 finalize, peer over distinct addresses, and Ctrl-C leaves nothing behind", async () => {
    await withDevnet("sigint", async (run) => {
      const healths = await pollHealth(
        (hs) => hs.every((h) => h !== null && h.finalized_slot >= 4),
        "finality",
        90_000,
        run,
      );
      for (const h of healths) assert.ok(h && h.finalized_slot >= 4);
      const finalized = new Set(healths.map((h) => h?.finalized_root));
      // Every node is on its own address and its TCP connections go to the other nodes' addresses.
      for (let k = 0; k < NODES; k++) {
        const ss = spawnSync("ip", ["netns", "exec", namespaceOf(k), "ss", "-Htn", "state", "established"], {
          encoding: "utf8",
        });
        const local = new Set<string>();
        const remote = new Set<string>();
        for (const line of ss.stdout.trim().split("\n")) {
          const cols = line.trim().split(/\s+/);
          const l = cols.at(-2)?.replace(/:\d+$/, "");
          const r = cols.at(-1)?.replace(/:\d+$/, "");
          // The bridge address is the host polling HTTP; the rest are p2p connections between nodes.
          if (l && r && r !== addressOf(k) && r !== "10.99.0.1" && r.startsWith("10.99.0.")) {
            local.add(l);
            remote.add(r);
          }
        }
        const others = Array.from({ length: NODES }, (_, j) => addressOf(j)).filter((a) => a !== addressOf(k));
        assert.deepEqual([...local], [addressOf(k)], `node ${k} connects from ${[...local]}: ${ss.stdout}`);
        assert.deepEqual([...remote].sort(), others.sort(), `node ${k} peers: ${ss.stdout}`);
      }
      assert.ok(finalized.size <= 2, "finalized checkpoints differ by more than one step");
      assert.ok(leftovers().length > 0, "the run's namespaces are not visible while it runs");
      assert.match(run.output(), /node 3 10\.99\.0\.13 \(mtn-n3\)/);
      await stopAndCheck(run, "SIGINT");
    });
  });

  it("SIGTERM as soon as the network exists (before the genesis is written) leaves nothing behind either", async () => {
    await withDevnet("sigterm", async (run) => {
      // The earliest moment: the network is up and the run is still writing its genesis.
      const deadline = Date.now() + 30_000;
      while (!/netns bridge /.test(run.output()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.match(run.output(), /netns bridge /, "the devnet never built its network");
      assert.ok(leftovers().length > 0);
      await stopAndCheck(run, "SIGTERM");
    });
  });

  it("a killed run's namespace, bridge, veth and rule are removed at the next start", () => {
    // What `kill -9` of a devnet leaves: the network, and the owner's lock naming a dead process.
    const made = [
      ["ip", "netns", "add", "mtn-n9"],
      ["ip", "link", "add", "mtn-br0", "type", "bridge"],
      ["ip", "link", "add", "mtn-v9", "type", "veth", "peer", "name", "mtn-p9"],
    ];
    // Some may be there already (an earlier failed test): only their presence matters.
    for (const [file, ...args] of made) spawnSync(file as string, args);
    // The FORWARD rule exactly as a run inserts it (netnsPlan.test.ts pins its spelling).
    const rule = planNetns([9], { iptables: true }).setup.find(([file]) => file === "iptables");
    assert.ok(rule !== undefined, "the plan inserts no FORWARD rule");
    spawnSync("iptables", rule.slice(1));
    for (const name of ["netns mtn-n9", "link mtn-br0", "link mtn-v9"]) assert.ok(leftovers().includes(name), name);
    // Without iptables (a machine with no Docker, as the devnet itself allows) there is no rule to leave.
    const hasIptables = spawnSync("iptables", ["-S", "FORWARD"]).status === 0;
    if (hasIptables) {
      assert.ok(
        leftovers().some((l) => l.startsWith("iptables ")),
        "the FORWARD rule was not created",
      );
    }
    const logged: string[] = [];
    const network = NetnsNetwork.create([0], (line) => logged.push(line));
    assert.match(logged.join("\n"), /removing leftovers of an earlier run: .*netns mtn-n9/);
    assert.deepEqual(
      leftovers().filter((l) => l.includes("9")),
      [],
      "stale namespace or veth survived the next start",
    );
    assert.deepEqual(network.teardown(), []);
  });
});

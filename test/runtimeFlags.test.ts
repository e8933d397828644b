// Every way a node is started passes the V8 flags it needs (NODE_RUNTIME_FLAGS), and a node can
// tell from its own process whether it got them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DRIVER_MAX_OLD_SPACE_MIB,
  DRIVER_SEMI_SPACE_MIB,
  hasMallocTunable,
  MALLOC_TUNABLE,
  NODE_RUNTIME_FLAGS,
  nodeGlibcTunables,
  nodeRuntimeEnv,
  PLAIN_MEMORY_REDUCER_FLAG,
  runsOnGlibc,
  runtimeFlagsShortfall,
  startedMaxOldSpaceMib,
  startedSemiSpaceMib,
} from "@metronome/common";
import { nodeArgs } from "../packages/devnet/src/launcher.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${root}/${path}`, "utf8");
/** NODE_RUNTIME_FLAGS as a node started without the driver's old-generation limit has them. */
const FLAGS_WITHOUT_OLD_SPACE = NODE_RUNTIME_FLAGS.filter((f) => !f.startsWith("--max-old-space-size"));

/** runtimeFlagsShortfall as a child node started with `flags` sees it, through its own execArgv. */
function shortfallInChild(flags: string[], nodeOptions = ""): string {
  const script = `import("@metronome/common").then((c) => console.log(JSON.stringify(c.runtimeFlagsShortfall(process.execArgv, process.env.NODE_OPTIONS))))`;
  const result = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
    cwd: `${root}/test`,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

describe("node runtime flags", () => {
  it("reads the semi-space size from the command line and NODE_OPTIONS, the last one winning", () => {
    assert.equal(startedSemiSpaceMib([], undefined), null);
    assert.equal(startedSemiSpaceMib(["--max-semi-space-size=32"], undefined), 32);
    assert.equal(startedSemiSpaceMib(["--max_semi_space_size", "64"], undefined), 64);
    assert.equal(startedSemiSpaceMib([], "--disable-warning=ExperimentalWarning --max-semi-space-size=48"), 48);
    assert.equal(startedSemiSpaceMib(["--max-semi-space-size=8"], "--max-semi-space-size=48"), 8);
    assert.equal(startedSemiSpaceMib(["--max-semi-space-size=junk"], undefined), null);
  });

  it("reads the old-generation size the same way, apart from the semi-space's", () => {
    assert.equal(startedMaxOldSpaceMib(["--max-semi-space-size=32"], undefined), null);
    assert.equal(startedMaxOldSpaceMib(["--max-old-space-size=1024"], undefined), 1024);
    assert.equal(startedMaxOldSpaceMib(["--max_old_space_size", "2048"], "--max-old-space-size=512"), 2048);
    assert.equal(startedMaxOldSpaceMib([], "--max-old-space-size=4096"), 4096);
  });

  it("names what is missing, and nothing when the flags are there", () => {
    assert.equal(runtimeFlagsShortfall([...NODE_RUNTIME_FLAGS], undefined), null);
    assert.match(
      runtimeFlagsShortfall([], undefined) ?? "",
      /semi-space is V8's default; the driver's heap may grow to 4 times what it holds between collections; the network worker cannot collect its heap; the memory reducer may stop the clock's thread to compact the heap: start node with --max-semi-space-size=32 --max-old-space-size=1024 --expose-gc --no-memory-reducer-favors-memory/,
    );
    // An operator's larger old generation is a choice, not a shortfall.
    assert.match(
      runtimeFlagsShortfall(FLAGS_WITHOUT_OLD_SPACE, undefined) ?? "",
      /^the driver's heap may grow to 4 times/,
    );
    assert.equal(runtimeFlagsShortfall([...FLAGS_WITHOUT_OLD_SPACE, "--max-old-space-size=4096"], undefined), null);
    const small =
      runtimeFlagsShortfall(
        ["--max-semi-space-size=16", "--max-old-space-size=1024", "--expose-gc", "--no-memory-reducer-favors-memory"],
        undefined,
      ) ?? "";
    assert.match(small, /is 16 MiB:/);
    assert.doesNotMatch(small, /collect/);
    assert.match(
      runtimeFlagsShortfall(
        ["--max-semi-space-size=32", "--max-old-space-size=1024", "--no-memory-reducer-favors-memory"],
        undefined,
      ) ?? "",
      /^the network worker cannot collect[^;]*:/,
    );
    assert.match(
      runtimeFlagsShortfall(["--max-semi-space-size=32", "--max-old-space-size=1024", "--expose-gc"], undefined) ?? "",
      /^the memory reducer may stop the clock's thread/,
    );
  });

  it("is what a node process started with the flags sees, and without them", () => {
    assert.equal(shortfallInChild([...NODE_RUNTIME_FLAGS]), "null");
    // NODE_OPTIONS takes only the flags Node allows there; the memory reducer's goes on the command line.
    const inOptions = NODE_RUNTIME_FLAGS.filter((f) => f !== PLAIN_MEMORY_REDUCER_FLAG);
    assert.equal(shortfallInChild([PLAIN_MEMORY_REDUCER_FLAG], inOptions.join(" ")), "null");
    assert.match(shortfallInChild([]), /V8's default/);
  });

  it("sizes the driver thread's heap only: a worker started after the node clears the flags sizes its own", () => {
    // A child started as a node is: a worker asking for a 48 MiB young generation and a 256 MiB old
    // one, before and after the node clears the flags, then the main thread's own heap limit and its
    // new space after a burst of short-lived objects (it still reaches the flag's 2 x 32 MiB).
    const script = `
      import { Worker } from "node:worker_threads";
      import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
      import { clearDriverHeapFlagsForWorkers } from "@metronome/common";
      const limitMib = () => new Promise((resolve, reject) => {
        const source = 'Promise.all([import("node:worker_threads"), import("node:v8")])' +
          '.then(([t, v8]) => t.parentPort.postMessage(v8.getHeapStatistics().heap_size_limit / 2 ** 20))';
        const w = new Worker(source,
          { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 48, maxOldGenerationSizeMb: 256 } });
        w.once("message", (m) => { resolve(m); void w.terminate(); });
        w.once("error", reject);
      });
      const before = await limitMib();
      clearDriverHeapFlagsForWorkers();
      const after = await limitMib();
      const keep = [];
      for (let r = 0; r < 200; r++) { keep.push(Array.from({ length: 100000 }, (_, i) => ({ i }))); if (keep.length > 3) keep.shift(); }
      const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 2 ** 20;
      const driver = getHeapStatistics().heap_size_limit / 2 ** 20;
      console.log(JSON.stringify({ before, after, newSpace, driver }));`;
    const result = spawnSync(process.execPath, [...NODE_RUNTIME_FLAGS, "--input-type=module", "-e", script], {
      cwd: `${root}/test`,
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    const { before, after, newSpace, driver } = JSON.parse(result.stdout.trim()) as Record<string, number>;
    // V8 counts three semi-spaces in the limit: the flags' 1024 + 3 x 32, or the worker's 256 + 48.
    const driverLimit = DRIVER_MAX_OLD_SPACE_MIB + 3 * DRIVER_SEMI_SPACE_MIB;
    assert.equal(before, driverLimit, "the flags override a worker's own limits");
    assert.equal(after, 256 + 48, "cleared, the worker's resourceLimits hold");
    assert.equal(driver, driverLimit, "the driver thread keeps its limit");
    assert.equal(newSpace, 2 * DRIVER_SEMI_SPACE_MIB, "the driver thread keeps its semi-spaces");
  });

  it("lets the driver's old generation grow 1.6 times its live size between collections, not V8's 4", () => {
    // V8 picks how far the old generation may grow after each major collection from the heap's
    // limit (--trace-gc-verbose prints it): 4x for a limit of 2 GiB or more, as this machine's
    // default 4 GiB is. A child keeps 30 MiB live and churns objects that outlive the young
    // generation, so V8 collects the old one several times.
    const script = `
      const live = Array.from({ length: 300 }, () => Array.from({ length: 12000 }, (_, i) => ({ i })));
      let churn = [];
      for (let r = 0; r < 400; r++) { churn.push(Array.from({ length: 20000 }, (_, i) => ({ r, i }))); if (churn.length > 40) churn = []; }
      console.log(live.length + churn.length > 0 ? "done" : "");`;
    const factors = (flags: string[]) => {
      const result = spawnSync(process.execPath, [...flags, "--trace-gc-verbose", "-e", script], { encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      const found = [...result.stdout.matchAll(/\[HeapController\] factor ([0-9.]+)/g)].map((m) => Number(m[1]));
      assert.ok(found.length >= 2, `major collections seen: ${found.length}`);
      return found;
    };
    const withFlags = factors([...NODE_RUNTIME_FLAGS]);
    assert.ok(Math.max(...withFlags) <= 1.6, `factors with the flags: ${withFlags.join(" ")}`);
    const withoutOldSpace = factors(FLAGS_WITHOUT_OLD_SPACE);
    assert.ok(Math.max(...withoutOldSpace) >= 3, `factors without --max-old-space-size: ${withoutOldSpace.join(" ")}`);
  });

  it("puts MALLOC_TUNABLE first in GLIBC_TUNABLES, so an operator's own value wins", () => {
    assert.equal(nodeGlibcTunables(undefined), MALLOC_TUNABLE);
    assert.equal(nodeGlibcTunables(""), MALLOC_TUNABLE);
    assert.equal(
      nodeGlibcTunables("glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2"),
      `${MALLOC_TUNABLE}:glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2`,
    );
    assert.equal(nodeGlibcTunables(MALLOC_TUNABLE), MALLOC_TUNABLE, "not repeated when already there");
    const env = nodeRuntimeEnv({ PATH: "/bin" });
    assert.deepEqual(env, { PATH: "/bin", GLIBC_TUNABLES: MALLOC_TUNABLE });
    assert.ok(hasMallocTunable("glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072"));
    assert.ok(!hasMallocTunable("glibc.malloc.arena_max=2"));
    assert.ok(!hasMallocTunable(undefined));
  });

  it("warns about a missing malloc tunable on glibc only", () => {
    const flags = [...NODE_RUNTIME_FLAGS];
    assert.equal(runtimeFlagsShortfall(flags, undefined, { glibc: false, tunables: undefined }), null);
    assert.equal(runtimeFlagsShortfall(flags, undefined, { glibc: true, tunables: MALLOC_TUNABLE }), null);
    assert.equal(
      runtimeFlagsShortfall(flags, undefined, { glibc: true, tunables: undefined }),
      `glibc may keep freed buffers in its heap: set GLIBC_TUNABLES=${MALLOC_TUNABLE} (after a flood the process would keep memory it no longer uses)`,
    );
    assert.match(
      runtimeFlagsShortfall([], undefined, { glibc: true, tunables: "" }) ?? "",
      /glibc may keep freed buffers in its heap: start node with --max-semi-space-size=32 [^:]*and set GLIBC_TUNABLES=glibc\.malloc\.mmap_threshold=65536 \(/,
    );
  });

  it(
    "keeps big freed buffers out of glibc's heap with the tunable, and not without it",
    { skip: !runsOnGlibc() },
    () => {
      // A child frees an 8 MiB buffer (glibc's dynamic threshold rises to 8 MiB), then holds 400
      // 256 KiB buffers, each followed by a small one it keeps, and lets the big ones go. Without
      // the tunable they are cut from the brk heap and the small live ones pin it: glibc keeps it
      // all. With it each big buffer is its own mapping, unmapped when V8 frees it.
      const script = `
      import { readFileSync } from "node:fs";
      const heapMib = () => {
        let inHeap = false, kib = 0;
        for (const line of readFileSync("/proc/self/smaps", "utf8").split("\\n")) {
          if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.trimEnd().endsWith("[heap]");
          else if (inHeap && line.startsWith("Rss:")) kib += Number(line.split(/\\s+/)[1]);
        }
        return kib / 1024;
      };
      const touched = (bytes) => { const b = new ArrayBuffer(bytes); new Uint8Array(b).fill(1); return b; };
      let first = touched(8 << 20); first = null; gc();
      const kept = []; let big = [];
      for (let i = 0; i < 400; i++) { big.push(touched(256 << 10)); kept.push(touched(4096)); }
      const peak = heapMib();
      big = null;
      // V8 frees backing stores after a collection, possibly on a helper thread: wait until it has.
      const deadline = Date.now() + 10_000;
      while (process.memoryUsage().arrayBuffers > 8 << 20) {
        if (Date.now() > deadline) throw new Error("the big buffers were never freed");
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      console.log(JSON.stringify({ peak, after: heapMib(), kept: kept.length }));`;
      const run = (env: NodeJS.ProcessEnv) => {
        const result = spawnSync(process.execPath, [...NODE_RUNTIME_FLAGS, "--input-type=module", "-e", script], {
          cwd: `${root}/test`,
          encoding: "utf8",
          env,
        });
        assert.equal(result.status, 0, result.stderr);
        return JSON.parse(result.stdout.trim()) as { peak: number; after: number };
      };
      const { GLIBC_TUNABLES: _, ...plain } = process.env;
      const without = run(plain);
      const withTunable = run(nodeRuntimeEnv(plain));
      assert.ok(without.peak > 90, `without: the big buffers are in the heap (${without.peak} MiB)`);
      assert.ok(without.after > 90, `without: glibc keeps them after they are freed (${without.after} MiB)`);
      assert.ok(withTunable.peak < 30, `with: the big buffers are mapped apart (${withTunable.peak} MiB)`);
      assert.ok(withTunable.after < 30, `with: ${withTunable.after} MiB`);
    },
  );

  it("is passed by every launch path: the devnet launcher, the bin's shebang, npm run metronome, the image", () => {
    // The launcher's environment is checked on running nodes (test/devnet.test.ts), the compose
    // file's and the systemd unit's in packages/node/test/api/deploy.test.ts.
    const args = nodeArgs("/genesis", { nodeId: 0 } as Parameters<typeof nodeArgs>[1], "/data", "info");
    assert.deepEqual(args.slice(0, NODE_RUNTIME_FLAGS.length), [...NODE_RUNTIME_FLAGS]);
    const shebang = read("packages/node/src/bin/metronome.ts").split("\n")[0] ?? "";
    const runFile = read("scripts/run.mjs");
    const runnerAt = runFile.indexOf("const METRONOME =");
    const runner = runnerAt < 0 ? "" : runFile.slice(runnerAt, runFile.indexOf("];", runnerAt));
    const image =
      read("Dockerfile")
        .split("\n")
        .find((l) => l.includes("exec /usr/local/bin/node")) ?? "";
    assert.ok(shebang.startsWith(`#!/usr/bin/env -S GLIBC_TUNABLES=${MALLOC_TUNABLE} node `), `shebang: ${shebang}`);
    assert.ok(runFile.includes(`const MALLOC_TUNABLE = "${MALLOC_TUNABLE}";`), "scripts/run.mjs: MALLOC_TUNABLE");
    assert.ok(image.includes(`export GLIBC_TUNABLES=${MALLOC_TUNABLE}\${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}`), image);
    for (const flag of NODE_RUNTIME_FLAGS) {
      assert.ok(shebang.includes(` ${flag}`), `shebang: ${shebang}`);
      assert.ok(runner.includes(`"${flag}"`), `scripts/run.mjs: ${runner}`);
      assert.ok(image.includes(flag), `Dockerfile: ${image}`);
    }
  });
});

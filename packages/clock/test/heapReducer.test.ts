// The network worker's heap reducer: a full collection once the heap in use is past the floor,
// nothing without --expose-gc, and the flag really gives the worker a collector.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { HEAP_REDUCER_FLOOR_BYTES, HeapReducer, shouldCollectHeap } from "../src/heapReducer.ts";

describe("HeapReducer", () => {
  it("collects while the heap is past the floor, then once as a last resort when the burst is over", () => {
    let used = HEAP_REDUCER_FLOOR_BYTES - 1;
    const calls: string[] = [];
    const reducer = new HeapReducer(
      (options) => {
        calls.push(options?.flavor ?? "regular");
      },
      () => used,
    );
    assert.equal(reducer.enabled, true);
    reducer.check();
    assert.deepEqual(calls, [], "below the floor and no burst: V8 is left alone");
    used = 300 * 2 ** 20;
    reducer.check();
    reducer.check();
    assert.deepEqual(calls, ["regular", "regular"], "one collection per check while past the floor");
    used = 30 * 2 ** 20; // the flood is over
    reducer.check();
    reducer.check();
    assert.deepEqual(calls, ["regular", "regular", "last-resort"], "one last-resort collection per burst");
    assert.equal(reducer.collections, 2);
    assert.equal(reducer.releases, 1);
    assert.equal(shouldCollectHeap(HEAP_REDUCER_FLOOR_BYTES), true);
  });

  it("gives a burst's memory back to the OS (a real heap, in a child node with --expose-gc)", () => {
    // 3 million small objects, dropped; one regular collection, then the reducer's last resort.
    const script = `import { HeapReducer } from ${JSON.stringify(new URL("../src/heapReducer.ts", import.meta.url).href)};
const rss = () => process.memoryUsage().rss;
let keep = []; for (let i = 0; i < 3e6; i++) keep.push({ a: i, b: "x" + i });
let used = Infinity;
const reducer = new HeapReducer(undefined, () => used, 1);
reducer.check();
keep = null; gc();
const afterRegular = rss();
used = 0; reducer.check();
console.log(JSON.stringify({ afterRegular, afterRelease: rss(), releases: reducer.releases }));`;
    const out = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    assert.equal(out.status, 0, out.stderr);
    const { afterRegular, afterRelease, releases } = JSON.parse(out.stdout) as Record<string, number>;
    assert.equal(releases, 1);
    // A regular collection keeps the freed pages (pooled, resident); the last resort returns them.
    assert.ok(
      (afterRegular as number) - (afterRelease as number) > 100 * 2 ** 20,
      `rss ${afterRegular} -> ${afterRelease} bytes`,
    );
  });

  it("does nothing without a collector (node started without --expose-gc)", () => {
    const reducer = new HeapReducer(undefined, () => Number.MAX_SAFE_INTEGER);
    assert.equal(reducer.enabled, false);
    reducer.start(1);
    reducer.check();
    reducer.stop();
    assert.equal(reducer.collections, 0);
  });

  it("a worker thread has the collector exactly when its process was started with --expose-gc", () => {
    // What the network worker sees: `typeof gc` inside a worker thread of a child node process.
    const script = `const { Worker } = require("node:worker_threads");
new Worker("require('node:worker_threads').parentPort.postMessage(typeof gc)", { eval: true })
  .once("message", (m) => { console.log(m); process.exit(0); });`;
    const inWorker = (flags: string[]) =>
      spawnSync(process.execPath, [...flags, "-e", script], {
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
      }).stdout.trim();
    assert.equal(inWorker(["--expose-gc"]), "function");
    assert.equal(inWorker([]), "undefined");
  });
});

// The network worker's heap reducer: a full collection once the heap in use is past the floor,
// nothing without --expose-gc, and the flag really gives the worker a collector.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import {
  HEAP_REDUCER_FLOOR_BYTES,
  HEAP_REDUCER_QUIET_BUSY_SHARE,
  type HeapReading,
  HeapReducer,
  heapReducerAction,
} from "../src/heapReducer.ts";

const MIB = 2 ** 20;

describe("HeapReducer", () => {
  it("collects while the heap is past the floor, then once as a last resort when the thread is quiet", () => {
    let reading: HeapReading = { usedBytes: HEAP_REDUCER_FLOOR_BYTES - 1, committedBytes: 40 * MIB, busyShare: 0.02 };
    const calls: string[] = [];
    const reducer = new HeapReducer(
      (options) => {
        calls.push(options?.flavor ?? "regular");
      },
      () => reading,
    );
    assert.equal(reducer.enabled, true);
    reducer.check();
    assert.deepEqual(calls, [], "below the floor and no burst: V8 is left alone");
    reading = { usedBytes: 300 * MIB, committedBytes: 400 * MIB, busyShare: 0.9 };
    reducer.check();
    reducer.check();
    assert.deepEqual(calls, ["regular", "regular"], "one collection per check while past the floor");
    reading = { usedBytes: 100 * MIB, committedBytes: 300 * MIB, busyShare: 0.8 }; // still flooded
    reducer.check();
    assert.deepEqual(calls, ["regular", "regular"], "a busy thread keeps its pages to reuse");
    reading = { usedBytes: 30 * MIB, committedBytes: 300 * MIB, busyShare: 0.03 }; // the flood is over
    reducer.check();
    reading = { usedBytes: 30 * MIB, committedBytes: 40 * MIB, busyShare: 0.03 };
    reducer.check();
    assert.deepEqual(calls, ["regular", "regular", "last-resort"], "one last-resort collection per burst");
    assert.equal(reducer.collections, 2);
    assert.equal(reducer.releases, 1);
  });

  it("gives back a heap that grew while its use stayed under the floor at every check", () => {
    // Once the live set is small, V8's own collections can keep the heap in use below the floor
    // whenever the reducer looks, while the flood still makes V8 commit 200 MiB.
    const state = { inBurst: false, committedAfterRelease: 0 };
    const flooded = { usedBytes: 100 * MIB, committedBytes: 200 * MIB, busyShare: 0.8 };
    assert.equal(heapReducerAction(flooded, state), "wait");
    assert.equal(heapReducerAction({ ...flooded, busyShare: 0.05 }, state), "release");
    assert.equal(heapReducerAction({ usedBytes: 30 * MIB, committedBytes: 60 * MIB, busyShare: 0.05 }, state), "wait");
    // After a release that left 150 MiB committed (a large live set), only a floor's more is a burst.
    const released = { inBurst: false, committedAfterRelease: 150 * MIB };
    assert.equal(
      heapReducerAction({ usedBytes: 120 * MIB, committedBytes: 200 * MIB, busyShare: 0 }, released),
      "wait",
    );
    assert.equal(
      heapReducerAction({ usedBytes: 120 * MIB, committedBytes: 280 * MIB, busyShare: 0 }, released),
      "release",
    );
    assert.equal(heapReducerAction({ ...flooded, usedBytes: HEAP_REDUCER_FLOOR_BYTES }, state), "collect");
    assert.equal(HEAP_REDUCER_QUIET_BUSY_SHARE < 0.5, true);
  });

  it("a burst marked from outside is given back at the first quiet check, once, however small the heap", () => {
    // Refused before decoding, a valid flood keeps the network worker's heap far under the floor;
    // the pages V8 freed stay pooled all the same.
    let reading: HeapReading = { usedBytes: 50 * MIB, committedBytes: 90 * MIB, busyShare: 0.6 };
    const calls: string[] = [];
    const reducer = new HeapReducer(
      (options) => {
        calls.push(options?.flavor ?? "regular");
      },
      () => reading,
    );
    reducer.check();
    assert.deepEqual(calls, [], "small and unmarked: V8 is left alone");
    reducer.markBurst();
    reducer.check();
    assert.deepEqual(calls, [], "still busy: the pages are reused");
    reading = { usedBytes: 30 * MIB, committedBytes: 57 * MIB, busyShare: 0.05 };
    reducer.check();
    reducer.check();
    assert.deepEqual(calls, ["last-resort"], "one release per marked burst");
    assert.equal(reducer.releases, 1);
  });

  it("gives a burst's memory back to the OS (a real heap, in a child node with --expose-gc)", () => {
    // 3 million small objects, dropped; one regular collection, then the reducer's last resort.
    const script = `import { HeapReducer } from ${JSON.stringify(new URL("../src/heapReducer.ts", import.meta.url).href)};
const rss = () => process.memoryUsage().rss;
let keep = []; for (let i = 0; i < 3e6; i++) keep.push({ a: i, b: "x" + i });
let used = Infinity;
const reducer = new HeapReducer(undefined, () => ({ usedBytes: used, committedBytes: 0, busyShare: 0 }), 1);
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
    const reducer = new HeapReducer(undefined, () => ({
      usedBytes: Number.MAX_SAFE_INTEGER,
      committedBytes: Number.MAX_SAFE_INTEGER,
      busyShare: 0,
    }));
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

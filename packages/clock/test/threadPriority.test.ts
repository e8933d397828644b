import assert from "node:assert/strict";
import { getPriority } from "node:os";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { lowerWorkerThreadPriority, type ThreadPriorityResult } from "../src/threadPriority.ts";

const linux = process.platform === "linux";

/** The kernel's nice for one thread of this process (on Linux getpriority takes a thread id). */
function niceOfThread(threadId: number): number {
  return getPriority(threadId);
}

function runWorker(offset: number | null): Promise<{ result: ThreadPriorityResult | null; nice: number }> {
  const worker = new Worker(new URL("./fixtures/priorityWorker.ts", import.meta.url), { workerData: { offset } });
  return new Promise((resolve, reject) => {
    worker.once("message", (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

describe("worker thread priority", { skip: !linux && "per-thread nice is Linux only" }, () => {
  it("a worker lowers only its own priority, by the offset, and the main thread keeps its own", async () => {
    const mainNice = niceOfThread(process.pid);
    const { result, nice } = await runWorker(3);
    assert.equal(result?.applied, true);
    assert.equal(nice, mainNice + 3, "the kernel shows the worker 3 nicer than the main thread");
    if (result?.applied) assert.equal(result.nice, mainNice + 3);
    assert.equal(niceOfThread(process.pid), mainNice, "the main thread's priority changed");
    // A thread started afterwards inherits the main thread's priority, not its sibling's.
    const sibling = await runWorker(null);
    assert.equal(sibling.nice, mainNice);
  });

  it("refuses on the main thread, whose later threads would inherit it", () => {
    const before = niceOfThread(process.pid);
    const result = lowerWorkerThreadPriority(5);
    assert.equal(result.applied, false);
    assert.equal(niceOfThread(process.pid), before);
  });

  it("caps at nice 19 and refuses an offset that is not a nice step", async () => {
    const { nice } = await runWorker(19);
    assert.equal(nice, 19);
    assert.throws(() => lowerWorkerThreadPriority(-1), RangeError);
    assert.throws(() => lowerWorkerThreadPriority(2.5), RangeError);
  });
});

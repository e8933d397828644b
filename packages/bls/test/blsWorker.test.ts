// The worker's task function, run on this thread: a job that starts before the thread's event
// loop has turned since the previous one yields a turn first, so the N-API finalizers that free the
// previous job's blst objects (queued as immediates) get to run, whatever piscina does between tasks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import verifyJob from "../src/blsWorker.ts";
import { encodeJob, toVerifiableSet, type VerifiableSet } from "../src/wire.ts";
import { distinctMessageSets } from "./fixtures.ts";

function job(seed: number) {
  const sets = distinctMessageSets(8, seed).map((s) => toVerifiableSet(s) as VerifiableSet);
  return { buffer: encodeJob(sets) };
}

describe("blsWorker task", () => {
  it("yields an event-loop turn before a job that follows the previous one without one", async () => {
    const first = await verifyJob(job(100));
    assert.deepEqual([...first.results], new Array(8).fill(1));

    // Straight on, as a parked worker would be handed its next task: only microtasks in between.
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    const second = await verifyJob(job(200));
    assert.equal(second.yieldedForCleanup, true);
    assert.equal(immediateRan, true, "immediates queued before the job ran before it finished");
    assert.deepEqual([...second.results], new Array(8).fill(1));

    // After a real turn of the loop there is nothing to wait for.
    await new Promise((resolve) => setImmediate(resolve));
    const third = await verifyJob(job(300));
    assert.equal(third.yieldedForCleanup, false);
  });
});

// Piscina task module: one job = one packed ArrayBuffer of signature sets (see wire.ts), or one
// block's aggregate signature (aggregateJob.ts).
// Loaded by file URL; Node 24 strips the types itself, so no build step is needed.

import { workerData } from "node:worker_threads";
import { BLS_WORKER_NICE_OFFSET, lowerWorkerThreadPriority } from "@metronome/clock/threadPriority";
import { aggregateJobOutcome, decodeAggregateJob } from "./aggregateJob.ts";
import { isBlsWorkerData, ValidatorKeyTable } from "./keyTable.ts";
import type { BatchCounters } from "./types.ts";
import { verifySetBatch } from "./verifyBatch.ts";
import { decodeJob } from "./wire.ts";

export interface BlsJob {
  buffer: ArrayBuffer;
}

export interface BlsJobResult {
  /** 1 = valid, 0 = invalid, one per set of the job, in order. */
  results: Uint8Array;
  counters: BatchCounters;
  verifyMs: number;
  /**
   * Whether this job first gave its thread's event loop a turn. blst objects hold native memory that
   * N-API finalizers free from an immediate on this loop; a worker that goes from job to job without
   * turning it frees nothing (the process grew by about 0.5 MB/s under a flood when piscina parked
   * its workers in Atomics.wait). So a job that starts before the loop has turned since the previous
   * one yields a turn first. With the pool's port messages that is rare: only when the next task
   * was already queued as the previous one finished. Reported for tests and diagnostics.
   */
  yieldedForCleanup: boolean;
}

/**
 * The validators' keys, sent once when the thread starts (piscina's workerData, so a replacement
 * thread gets them too) and decoded one by one as sets name them; kept for the thread's life.
 */
const keyTable = isBlsWorkerData(workerData) ? ValidatorKeyTable.fromPacked(workerData.validatorKeys) : null;

/** Verification yields a shared core to the driver thread's interval tick (threadPriority.ts). */
lowerWorkerThreadPriority(BLS_WORKER_NICE_OFFSET);

let loopTurnedSinceLastJob = true;

function markLoopTurned(): void {
  loopTurnedSinceLastJob = true;
}

export default async function verifyJob(job: BlsJob): Promise<BlsJobResult> {
  const yieldedForCleanup = !loopTurnedSinceLastJob;
  if (yieldedForCleanup) await new Promise<void>((resolve) => setImmediate(resolve));
  const started = performance.now();
  const outcome = runJob(job.buffer);
  const verifyMs = performance.now() - started;
  loopTurnedSinceLastJob = false;
  setImmediate(markLoopTurned);
  return { results: outcome.results, counters: outcome.counters, verifyMs, yieldedForCleanup };
}

function runJob(buffer: ArrayBuffer): { results: Uint8Array; counters: BatchCounters } {
  const aggregate = decodeAggregateJob(buffer);
  if (aggregate !== null) return aggregateJobOutcome(aggregate, keyTable);
  const sets = decodeJob(buffer);
  // Only our own encoders write jobs, so this is a bug, not bad network input; the pool turns the
  // rejection into a typed "worker_failed" for the affected calls.
  if (sets === null) throw new Error("blsWorker: job buffer is neither a signature-set job nor an aggregate job");
  return verifySetBatch(sets, keyTable);
}

// Signature verification off the main thread. Under a gossip flood, checking each signature
// where it arrives starves the slot clock and fork choice; here the main thread only buffers
// sets (a few ms, or until a batch fills), packs them into one buffer and hands the batch to a
// worker, so its cost per set is a copy, not a pairing.
import { availableParallelism } from "node:os";
import type { PublicKey } from "@metronome/chain";
import { Piscina } from "piscina";
import { encodeAggregateJob, toAggregateJob } from "./aggregateJob.ts";
import type { BlsJob, BlsJobResult } from "./blsWorker.ts";
import { type BlsWorkerData, packValidatorKeys } from "./keyTable.ts";
import { callBatchHook, DEFAULT_RECENT_BATCHES, VerifierStatsRecorder } from "./stats.ts";
import {
  type AggregateSignatureInput,
  type BlsVerifier,
  BlsVerifierError,
  BlsVerifierErrorCode,
  type BlsVerifierStats,
  DEFAULT_MAX_BATCH_SIZE,
  type SignatureSetInput,
} from "./types.ts";
import { encodeJob, toVerifiableSet, type VerifiableSet } from "./wire.ts";

export const DEFAULT_MAX_BUFFER_WAIT_MS = 5;
/**
 * Only what the workers hold (a running and a waiting job each) plus one filling batch: with one
 * worker 192 sets, 50-150 ms of work on the 2-core dev box. A deeper queue here is FIFO and blind
 * to who sent what: under a flood an honest vote would wait behind a second of junk and miss its
 * interval. The backlog belongs in the caller's queues, whose drop policy is per peer.
 */
export function defaultMaxQueuedSets(workers: number, jobsPerWorker: number, maxBatchSize: number): number {
  return (workers * jobsPerWorker + 1) * maxBatchSize;
}
/** One job running and one waiting per worker, so a worker never idles on a busy main loop. */
export const DEFAULT_JOBS_PER_WORKER = 2;

export interface BlsVerifierPoolOptions {
  /** Worker threads; default max(1, availableParallelism() - 1), leaving a core for the main loop. */
  workers?: number;
  maxBatchSize?: number;
  /** Longest a set waits in the buffer for batch-mates before a partial batch goes out. */
  maxBufferWaitMs?: number;
  /** Cap on sets accepted and not yet settled; a call that would exceed it is refused whole. */
  maxQueuedSets?: number;
  jobsPerWorker?: number;
  /** How many recent batches stats() keeps. */
  recentBatches?: number;
  /** Called once per finished job: sets in it and dispatch-to-result milliseconds. */
  onBatch?: (size: number, ms: number) => void;
  /**
   * The validators' keys (decoded and checked, e.g. the chain's PubkeyCache), index = validator
   * index. Sent to each worker once, when its thread starts; sets may then name validators by
   * index. Lean validators are fixed at genesis, so the table never changes.
   */
  validatorKeys?: readonly PublicKey[];
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface PendingCall {
  results: boolean[];
  remaining: number;
  settled: boolean;
  resolve: (results: boolean[]) => void;
  reject: (error: BlsVerifierError) => void;
}

interface QueuedSet {
  set: VerifiableSet;
  call: PendingCall;
  index: number;
}

function positiveInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

export class BlsVerifierPool implements BlsVerifier {
  private readonly piscina: Piscina<BlsJob, BlsJobResult>;
  private readonly workers: number;
  private readonly maxBatchSize: number;
  private readonly maxBufferWaitMs: number;
  private readonly maxQueuedSets: number;
  private readonly maxJobsInFlight: number;
  private readonly validatorKeyCount: number;
  private readonly onBatch: ((size: number, ms: number) => void) | undefined;
  private readonly recorder: VerifierStatsRecorder;
  /** Bounded by maxQueuedSets. */
  private buffer: QueuedSet[] = [];
  private pendingSets = 0;
  private jobsInFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The oldest buffered sets have waited maxBufferWaitMs: send the next batch even if partial. */
  private flushDue = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(options: BlsVerifierPoolOptions = {}) {
    this.workers = positiveInt(options.workers, defaultWorkerCount());
    this.maxBatchSize = positiveInt(options.maxBatchSize, DEFAULT_MAX_BATCH_SIZE);
    this.maxBufferWaitMs = Math.max(0, options.maxBufferWaitMs ?? DEFAULT_MAX_BUFFER_WAIT_MS);
    const jobsPerWorker = positiveInt(options.jobsPerWorker, DEFAULT_JOBS_PER_WORKER);
    this.maxQueuedSets = positiveInt(
      options.maxQueuedSets,
      defaultMaxQueuedSets(this.workers, jobsPerWorker, this.maxBatchSize),
    );
    this.maxJobsInFlight = this.workers * jobsPerWorker;
    this.onBatch = options.onBatch;
    this.recorder = new VerifierStatsRecorder(options.recentBatches ?? DEFAULT_RECENT_BATCHES);
    const keys = options.validatorKeys ?? [];
    this.validatorKeyCount = keys.length;
    const workerData: BlsWorkerData | undefined =
      keys.length > 0 ? { validatorKeys: packValidatorKeys(keys) } : undefined;
    this.piscina = new Piscina<BlsJob, BlsJobResult>({
      filename: new URL("./blsWorker.ts", import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      workerData,
      // Piscina's default parks an idle worker in Atomics.wait, so its event loop never runs and
      // the N-API finalizers that free blst's native objects never do: RSS grew without bound
      // under load. Tasks arrive as port messages instead, normally one loop turn each; the worker
      // yields a turn itself when two come back to back (see blsWorker.ts).
      atomics: "disabled",
    });
    // A worker that dies outside a task would otherwise surface as an unhandled 'error' event.
    this.piscina.on("error", () => {
      this.recorder.workerErrors++;
    });
  }

  /**
   * Resolves once a worker has loaded the verification code (the first job otherwise pays for
   * thread start-up and module loading, a few hundred ms).
   */
  async ready(): Promise<void> {
    if (this.closed) throw new BlsVerifierError(BlsVerifierErrorCode.CLOSED, "BLS verifier pool is closed");
    const buffer = encodeJob([]);
    await this.piscina.run({ buffer }, { transferList: [buffer] });
  }

  verifySets(sets: readonly SignatureSetInput[]): Promise<boolean[]> {
    if (this.closed) {
      this.recorder.dropped.closed += sets.length;
      return Promise.reject(new BlsVerifierError(BlsVerifierErrorCode.CLOSED, "BLS verifier pool is closed"));
    }
    const results = new Array<boolean>(sets.length).fill(false);
    const accepted: { set: VerifiableSet; index: number }[] = [];
    sets.forEach((input, index) => {
      const set = toVerifiableSet(input, this.validatorKeyCount);
      if (set !== null) accepted.push({ set, index });
    });
    if (this.pendingSets + accepted.length > this.maxQueuedSets) {
      this.recorder.dropped.queue_full += accepted.length;
      return Promise.reject(
        new BlsVerifierError(
          BlsVerifierErrorCode.QUEUE_FULL,
          `BLS verifier queue full: ${this.pendingSets} pending + ${accepted.length} > ${this.maxQueuedSets}`,
        ),
      );
    }
    this.recorder.setsMalformedShape += sets.length - accepted.length;
    if (accepted.length === 0) return Promise.resolve(results);

    return new Promise<boolean[]>((resolve, reject) => {
      const call: PendingCall = { results, remaining: accepted.length, settled: false, resolve, reject };
      for (const { set, index } of accepted) this.buffer.push({ set, call, index });
      this.pendingSets += accepted.length;
      this.pump();
    });
  }

  /**
   * Sent at once as a job of its own (a block must not wait for a set batch to fill), counted in
   * the jobs in flight so set batches wait for it rather than pile onto the workers beside it.
   */
  verifyAggregateSignature(input: AggregateSignatureInput): Promise<boolean> {
    if (this.closed) {
      this.recorder.dropped.closed++;
      return Promise.reject(new BlsVerifierError(BlsVerifierErrorCode.CLOSED, "BLS verifier pool is closed"));
    }
    const job = toAggregateJob(input, this.validatorKeyCount);
    if (job === null) {
      this.recorder.setsMalformedShape++;
      return Promise.resolve(false);
    }
    this.jobsInFlight++;
    this.pendingSets++;
    this.recorder.jobsStarted++;
    const buffer = encodeAggregateJob(job);
    const started = performance.now();
    return this.piscina.run({ buffer }, { transferList: [buffer] }).then(
      (result) => {
        this.jobsInFlight--;
        this.pendingSets--;
        if (!(result?.results instanceof Uint8Array) || result.results.length !== 1) return this.aggregateFailed();
        const ms = performance.now() - started;
        this.recorder.recordBatch({ size: 1, ms, verifyMs: result.verifyMs }, result.results, result.counters);
        this.pump();
        return result.results[0] === 1;
      },
      () => {
        this.jobsInFlight--;
        this.pendingSets--;
        return this.aggregateFailed();
      },
    );
  }

  private aggregateFailed(): never {
    const code = this.closed ? BlsVerifierErrorCode.CLOSED : BlsVerifierErrorCode.WORKER_FAILED;
    if (code === BlsVerifierErrorCode.WORKER_FAILED) this.recorder.jobsFailed++;
    this.recorder.dropped[code]++;
    this.pump();
    throw new BlsVerifierError(code, `BLS aggregate verification job ${code === "closed" ? "cancelled" : "failed"}`);
  }

  capacityLeft(): number {
    return this.closed ? 0 : Math.max(0, this.maxQueuedSets - this.pendingSets);
  }

  validatorCount(): number {
    return this.validatorKeyCount;
  }

  verifySet(set: SignatureSetInput): Promise<boolean> {
    return this.verifySets([set]).then((results) => results[0] === true);
  }

  stats(): BlsVerifierStats {
    return this.recorder.snapshot({
      workers: this.workers,
      queuedSets: this.buffer.length,
      pendingSets: this.pendingSets,
      jobsInFlight: this.jobsInFlight,
    });
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    this.clearTimer();
    const buffered = this.buffer;
    this.buffer = [];
    this.pendingSets -= buffered.length;
    this.recorder.dropped.closed += buffered.length;
    const error = new BlsVerifierError(BlsVerifierErrorCode.CLOSED, "BLS verifier pool closed");
    for (const queued of buffered) settleReject(queued.call, error);
    // In-flight jobs reject as their workers are terminated; onJobFailed turns that into "closed".
    this.closing = this.piscina.destroy();
    return this.closing;
  }

  /** Sends batches while a worker slot is free and a batch is full or its wait is over. */
  private pump(): void {
    while (!this.closed && this.buffer.length > 0 && this.jobsInFlight < this.maxJobsInFlight) {
      if (this.buffer.length < this.maxBatchSize && !this.flushDue) break;
      this.dispatch(this.buffer.splice(0, this.maxBatchSize));
    }
    if (this.buffer.length === 0) {
      this.flushDue = false;
      this.clearTimer();
    } else if (!this.flushDue && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flushDue = true;
        this.pump();
      }, this.maxBufferWaitMs);
    }
  }

  private dispatch(batch: QueuedSet[]): void {
    this.jobsInFlight++;
    this.recorder.jobsStarted++;
    const buffer = encodeJob(batch.map((queued) => queued.set));
    const started = performance.now();
    this.piscina.run({ buffer }, { transferList: [buffer] }).then(
      (result) => this.onJobDone(batch, result, started),
      () => this.onJobFailed(batch),
    );
  }

  private onJobDone(batch: QueuedSet[], result: BlsJobResult, started: number): void {
    if (!(result?.results instanceof Uint8Array) || result.results.length !== batch.length) {
      this.onJobFailed(batch);
      return;
    }
    this.jobsInFlight--;
    this.pendingSets -= batch.length;
    const ms = performance.now() - started;
    this.recorder.recordBatch({ size: batch.length, ms, verifyMs: result.verifyMs }, result.results, result.counters);
    batch.forEach((queued, i) => {
      const call = queued.call;
      call.results[queued.index] = result.results[i] === 1;
      call.remaining--;
      if (call.remaining === 0 && !call.settled) {
        call.settled = true;
        call.resolve(call.results);
      }
    });
    callBatchHook(this.onBatch, batch.length, ms);
    this.pump();
  }

  private onJobFailed(batch: QueuedSet[]): void {
    this.jobsInFlight--;
    this.pendingSets -= batch.length;
    const code = this.closed ? BlsVerifierErrorCode.CLOSED : BlsVerifierErrorCode.WORKER_FAILED;
    if (code === BlsVerifierErrorCode.WORKER_FAILED) this.recorder.jobsFailed++;
    this.recorder.dropped[code] += batch.length;
    const error = new BlsVerifierError(code, `BLS verification job ${code === "closed" ? "cancelled" : "failed"}`);
    for (const queued of batch) settleReject(queued.call, error);
    this.pump();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function settleReject(call: PendingCall, error: BlsVerifierError): void {
  if (call.settled) return;
  call.settled = true;
  call.reject(error);
}

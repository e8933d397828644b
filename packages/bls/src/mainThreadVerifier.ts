// The same batch check as the worker pool, run synchronously on the calling thread: for tests,
// benchmarks and a --no-worker mode. Each call blocks its caller for the whole verification.
import type { PublicKey } from "@metronome/chain";
import { aggregateJobOutcome, toAggregateJob } from "./aggregateJob.ts";
import { ValidatorKeyTable } from "./keyTable.ts";
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
import { verifySetBatch } from "./verifyBatch.ts";
import { toVerifiableSet, type VerifiableSet } from "./wire.ts";

export interface MainThreadVerifierOptions {
  maxBatchSize?: number;
  recentBatches?: number;
  onBatch?: (size: number, ms: number) => void;
  /** The validators' keys (index = validator index), so sets may name validators (see the pool's option). */
  validatorKeys?: readonly PublicKey[];
}

export class MainThreadVerifier implements BlsVerifier {
  private readonly maxBatchSize: number;
  private readonly onBatch: ((size: number, ms: number) => void) | undefined;
  private readonly recorder: VerifierStatsRecorder;
  private readonly keyTable: ValidatorKeyTable | null;
  private closed = false;

  constructor(options: MainThreadVerifierOptions = {}) {
    const size = options.maxBatchSize;
    this.maxBatchSize =
      size !== undefined && Number.isFinite(size) && size >= 1 ? Math.floor(size) : DEFAULT_MAX_BATCH_SIZE;
    this.onBatch = options.onBatch;
    this.recorder = new VerifierStatsRecorder(options.recentBatches ?? DEFAULT_RECENT_BATCHES);
    const keys = options.validatorKeys ?? [];
    this.keyTable = keys.length > 0 ? ValidatorKeyTable.fromKeys(keys) : null;
  }

  verifySets(sets: readonly SignatureSetInput[]): Promise<boolean[]> {
    if (this.closed) {
      this.recorder.dropped.closed += sets.length;
      return Promise.reject(new BlsVerifierError(BlsVerifierErrorCode.CLOSED, "BLS verifier is closed"));
    }
    return Promise.resolve(this.verifySetsNow(sets));
  }

  verifyAggregateSignature(input: AggregateSignatureInput): Promise<boolean> {
    if (this.closed) {
      this.recorder.dropped.closed++;
      return Promise.reject(new BlsVerifierError(BlsVerifierErrorCode.CLOSED, "BLS verifier is closed"));
    }
    const job = toAggregateJob(input, this.validatorCount());
    if (job === null) {
      this.recorder.setsMalformedShape++;
      return Promise.resolve(false);
    }
    this.recorder.jobsStarted++;
    const started = performance.now();
    const outcome = aggregateJobOutcome(job, this.keyTable);
    const ms = performance.now() - started;
    this.recorder.recordBatch({ size: 1, ms, verifyMs: ms }, outcome.results, outcome.counters);
    return Promise.resolve(outcome.results[0] === 1);
  }

  capacityLeft(): number {
    return this.closed ? 0 : Number.POSITIVE_INFINITY;
  }

  validatorCount(): number {
    return this.keyTable?.size ?? 0;
  }

  /** Synchronous form, for callers that are already off the hot path. */
  verifySetsNow(sets: readonly SignatureSetInput[]): boolean[] {
    const results = new Array<boolean>(sets.length).fill(false);
    const accepted: { set: VerifiableSet; index: number }[] = [];
    sets.forEach((input, index) => {
      const set = toVerifiableSet(input, this.validatorCount());
      if (set !== null) accepted.push({ set, index });
    });
    this.recorder.setsMalformedShape += sets.length - accepted.length;
    for (let start = 0; start < accepted.length; start += this.maxBatchSize) {
      const chunk = accepted.slice(start, start + this.maxBatchSize);
      this.recorder.jobsStarted++;
      const started = performance.now();
      const outcome = verifySetBatch(
        chunk.map((c) => c.set),
        this.keyTable,
      );
      const ms = performance.now() - started;
      this.recorder.recordBatch({ size: chunk.length, ms, verifyMs: ms }, outcome.results, outcome.counters);
      chunk.forEach((c, i) => {
        results[c.index] = outcome.results[i] === 1;
      });
      callBatchHook(this.onBatch, chunk.length, ms);
    }
    return results;
  }

  stats(): BlsVerifierStats {
    return this.recorder.snapshot({ workers: 0, queuedSets: 0, pendingSets: 0, jobsInFlight: 0 });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

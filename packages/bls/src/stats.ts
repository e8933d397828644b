// Running totals shared by both verifiers, so their stats() read the same way.
import {
  type BatchCounters,
  type BatchRecord,
  type BatchTotals,
  type BlsVerifierStats,
  emptyBatchTotals,
} from "./types.ts";

export const DEFAULT_RECENT_BATCHES = 64;

export interface LiveQueueState {
  workers: number;
  queuedSets: number;
  pendingSets: number;
  jobsInFlight: number;
}

export class VerifierStatsRecorder {
  jobsStarted = 0;
  jobsFinished = 0;
  jobsFailed = 0;
  workerErrors = 0;
  setsMalformedShape = 0;
  readonly dropped = { queue_full: 0, closed: 0, worker_failed: 0 };
  private setsVerified = 0;
  private setsValid = 0;
  /** Verification time summed over finished batches: the verifier's busy time. */
  private verifyMsTotal = 0;
  private readonly totals: BatchTotals = emptyBatchTotals();
  private readonly recent: BatchRecord[] = [];
  private readonly recentLimit: number;

  constructor(recentLimit = DEFAULT_RECENT_BATCHES) {
    this.recentLimit = Math.max(0, Math.floor(recentLimit));
  }

  recordBatch(record: BatchRecord, results: Uint8Array, counters: BatchCounters): void {
    this.jobsFinished++;
    this.setsVerified += results.length;
    for (const r of results) this.setsValid += r;
    this.verifyMsTotal += record.verifyMs;
    for (const key of Object.keys(this.totals) as (keyof BatchTotals)[]) this.totals[key] += counters[key];
    if (this.recentLimit === 0) return;
    this.recent.push(record);
    if (this.recent.length > this.recentLimit) this.recent.shift();
  }

  snapshot(live: LiveQueueState): BlsVerifierStats {
    return {
      ...live,
      jobsStarted: this.jobsStarted,
      jobsFinished: this.jobsFinished,
      jobsFailed: this.jobsFailed,
      workerErrors: this.workerErrors,
      setsVerified: this.setsVerified,
      setsValid: this.setsValid,
      setsInvalid: this.setsVerified - this.setsValid,
      setsMalformedShape: this.setsMalformedShape,
      verifyMsTotal: this.verifyMsTotal,
      ...this.totals,
      dropped: { ...this.dropped },
      recentBatches: this.recent.slice(),
    };
  }
}

/** A throwing metrics hook must not break verification. */
export function callBatchHook(hook: ((size: number, ms: number) => void) | undefined, size: number, ms: number): void {
  if (hook === undefined) return;
  try {
    hook(size, ms);
  } catch {
    // metrics only
  }
}

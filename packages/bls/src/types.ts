// Shared vocabulary of the BLS verifiers: what callers submit, what they get back, and the
// numbers a verifier reports. Both the worker pool and the main-thread verifier implement
// `BlsVerifier`, so callers (and a --no-worker mode) can swap one for the other.

/** Sets per worker job / main-thread chunk: large enough to amortize the final exponentiation. */
export const DEFAULT_MAX_BATCH_SIZE = 64;

interface SignatureSetBase {
  /** 32-byte signing root. */
  message: Uint8Array;
  /** 96-byte compressed G2 signature (untrusted: always fully validated). */
  signature: Uint8Array;
  /**
   * Same-message grouping hint. Omitted or true: the set may be combined with other sets of the
   * batch carrying the identical message into one randomized check. False: always checked in the
   * distinct-message batch.
   */
  sameMessageGroup?: boolean;
}

/**
 * A set carrying its key. `publicKey` is either 48 bytes compressed (raw bytes from the wire or
 * the state: decoded and group-checked by the verifier) or 96 bytes uncompressed (a `PublicKey`
 * object this process already decoded and checked, or an aggregate of such keys, serialized with
 * `toBytes(false)`: trusted, so the verifier skips the costly group check). For callers without
 * the validator table (tests, benches); see signatureSets.ts.
 */
export interface KeyedSignatureSetInput extends SignatureSetBase {
  publicKey: Uint8Array;
}

/**
 * A set signed by validators of the verifier's key table (`validatorCount()` > 0): one index for a
 * single vote, an aggregate's participants for an aggregate. The verifier looks the keys up and
 * aggregates them where it verifies, so the caller's thread never serializes or adds keys. An index
 * outside the table makes the set false.
 */
export interface IndexedSignatureSetInput extends SignatureSetBase {
  validatorIndices: readonly number[];
}

export type SignatureSetInput = KeyedSignatureSetInput | IndexedSignatureSetInput;

/**
 * One aggregate signature over distinct messages (AggregateVerify): a block's signature, which
 * covers the proposer's signing root and then each body attestation's data, `signers[i]` naming
 * the validators whose keys signed `messages[i]` (aggregated where the check runs). Only a
 * verifier holding the key table can check it.
 */
export interface AggregateSignatureInput {
  messages: readonly Uint8Array[];
  signers: readonly (readonly number[])[];
  /** 96-byte compressed G2 signature (untrusted: fully validated). */
  signature: Uint8Array;
}

export interface BlsVerifier {
  /**
   * One boolean per set, in order. Sets of malformed shape resolve false. Rejects with
   * `BlsVerifierError` ("queue_full" at once when the verifier cannot take the whole call,
   * "closed" after or during close(), "worker_failed" when a worker died mid-job).
   */
  verifySets(sets: readonly SignatureSetInput[]): Promise<boolean[]>;
  /**
   * AggregateVerify of one aggregate signature (a block's), as one job of its own: never batched
   * with sets, never refused for a full set queue (the caller bounds how many it has in flight).
   * Resolves false for a malformed input or when the verifier has no key table; rejects with
   * "closed" or "worker_failed" as verifySets does. Counted as one set in the stats.
   */
  verifyAggregateSignature(input: AggregateSignatureInput): Promise<boolean>;
  /** How many more sets a call may bring right now without being refused as queue_full. */
  capacityLeft(): number;
  /** Validators whose keys this verifier holds (sets may name them by index); 0: sets must carry keys. */
  validatorCount(): number;
  stats(): BlsVerifierStats;
  /** Settles every pending promise and releases threads. Idempotent. */
  close(): Promise<void>;
}

/** Counters one batch verification reports (a worker job or a main-thread chunk). */
export interface BatchCounters {
  /** Sets in the batch. */
  sets: number;
  /** Multi-set checks run: one per same-message group plus one per distinct-message batch. */
  batchChecks: number;
  /** Same-message groups checked with aggregateWithRandomness + one verify. */
  sameMessageGroups: number;
  /** Multi-set checks that failed and were re-verified set by set. */
  fallbacks: number;
  /** Single-set verifications (fallbacks and lone sets). */
  individualChecks: number;
  /** Sets whose key or signature bytes did not decode (or named a validator the table lacks). */
  malformed: number;
  /** Validator keys decoded from the table in this batch: each validator's once per thread. */
  keysDecoded: number;
  /** Sets whose key was aggregated from more than one validator's key (aggregates). */
  keyAggregations: number;
}

export function emptyBatchTotals(): BatchTotals {
  const { sets: _sets, ...totals } = emptyBatchCounters();
  return totals;
}

export function emptyBatchCounters(): BatchCounters {
  return {
    sets: 0,
    batchChecks: 0,
    sameMessageGroups: 0,
    fallbacks: 0,
    individualChecks: 0,
    malformed: 0,
    keysDecoded: 0,
    keyAggregations: 0,
  };
}

export interface BatchRecord {
  size: number;
  /** Dispatch to result on the main thread (includes the wait for a worker). */
  ms: number;
  /** Time the verification itself took. */
  verifyMs: number;
}

/** BatchCounters summed over every finished batch (the per-batch set count is `setsVerified` there). */
export type BatchTotals = Omit<BatchCounters, "sets">;

export interface BlsVerifierStats extends BatchTotals {
  /** Threads verifying (0 for the main-thread verifier). */
  workers: number;
  /** Sets accepted and buffered, waiting for a free worker: the queue depth. */
  queuedSets: number;
  /** Sets accepted and not yet settled (buffered + in flight); capped by maxQueuedSets. */
  pendingSets: number;
  jobsInFlight: number;
  jobsStarted: number;
  jobsFinished: number;
  jobsFailed: number;
  /** Worker crashes outside a task (the pool replaces the thread). */
  workerErrors: number;
  setsVerified: number;
  setsValid: number;
  setsInvalid: number;
  /** Sets refused for their shape (wrong lengths) before any crypto; they resolve false. */
  setsMalformedShape: number;
  /** Milliseconds spent verifying, summed over finished batches (busy time, not queue wait). */
  verifyMsTotal: number;
  dropped: { queue_full: number; closed: number; worker_failed: number };
  /** The most recent batches, oldest first (bounded; for a size/latency histogram). */
  recentBatches: readonly BatchRecord[];
}

export const BlsVerifierErrorCode = {
  QUEUE_FULL: "queue_full",
  CLOSED: "closed",
  WORKER_FAILED: "worker_failed",
} as const;
export type BlsVerifierErrorCode = (typeof BlsVerifierErrorCode)[keyof typeof BlsVerifierErrorCode];

export class BlsVerifierError extends Error {
  readonly code: BlsVerifierErrorCode;

  constructor(code: BlsVerifierErrorCode, message: string) {
    super(message);
    this.name = "BlsVerifierError";
    this.code = code;
  }
}

export function isBlsVerifierError(err: unknown, code?: BlsVerifierErrorCode): err is BlsVerifierError {
  return err instanceof BlsVerifierError && (code === undefined || err.code === code);
}

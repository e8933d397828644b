// The block fetcher's public types: why a root is wanted, what happened to a want and a request,
// its options and its statistics (blockFetcher.ts).

/** Why a root is wanted. */
export type WantReason = "unknown_parent" | "unknown_attestation_block";

/**
 * Result of one `want` call; every call lands in exactly one (lean_block_fetch_dedup_total):
 * - "queued": newly wanted, a request slot is free so the next tick asks for it.
 * - "inflight_cap": newly wanted, but all request slots are busy: refused for now, it stays wanted
 *   and is asked when a slot frees.
 * - "known": already imported or cached (`isKnown`).
 * - "already_wanted": wanted and waiting (due or in backoff).
 * - "in_flight": currently being requested.
 * - "invalid": not a 32-byte root.
 * - "stopped": the fetcher was stopped.
 */
export type DedupOutcome = "queued" | "inflight_cap" | "known" | "already_wanted" | "in_flight" | "invalid" | "stopped";

/** How an issued request ended. "partial"/"empty": some/none of the asked roots came back. */
export type RequestOutcome = "success" | "partial" | "empty" | "error" | "timeout" | "aborted";

/** Why `tick` could not issue a request for due roots (counted once per refused request). */
export type RequestRefusal = "inflight_cap" | "no_peer";

/** Why a root left the wanted set without being fetched. */
export type WantedDropReason = "wanted_cap" | "attempts_exhausted";

/** Why a root left the wanted set because we have it now. */
export type WantedResolution = "received" | "imported" | "known";

export const DEDUP_OUTCOMES: readonly DedupOutcome[] = [
  "queued",
  "inflight_cap",
  "known",
  "already_wanted",
  "in_flight",
  "invalid",
  "stopped",
];

export type RequestBlocksByRoot = (peerId: string, roots: Uint8Array[], signal: AbortSignal) => Promise<Uint8Array[]>;

export interface BlockFetcherOptions {
  /** Requests outstanding at once, across all peers; default MAX_CONCURRENT_BLOCKS_BY_ROOT (PROTOCOL.md section 6). */
  maxInFlight?: number;
  maxRootsPerRequest?: number;
  /** Cap on the wanted set; a new root beyond it evicts the oldest wanted root not in flight. */
  maxWanted?: number;
  requestTimeoutMs?: number;
  /** Retry backoff after a failed/unanswered attempt: base * 2^(attempts-1), capped, jittered. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts per root before it is dropped ("attempts_exhausted"); a later `want` re-queues it. */
  maxAttempts?: number;
  /** Half-life of a peer's failure penalty. */
  peerPenaltyHalfLifeMs?: number;
  /** Uniform [0, 1): backoff jitter and weighted peer choice. */
  random?: () => number;
  now: () => number;
  /** Asks `peerId` for `roots`; resolves with the roots actually received. */
  request: RequestBlocksByRoot;
  /** Currently connected peers. */
  peers: () => string[];
  /** Whether the block is already imported or cached. */
  isKnown: (root: Uint8Array) => boolean;
}

export interface BlockFetcherStats {
  inFlight: number;
  maxInFlightSeen: number;
  wantedCount: number;
  dedupOutcomes: Record<DedupOutcome, number>;
  wantReasons: Record<WantReason, number>;
  requestsIssued: number;
  requestOutcomes: Record<RequestOutcome, number>;
  requestRefusals: Record<RequestRefusal, number>;
  wantedDropped: Record<WantedDropReason, number>;
  wantedResolved: Record<WantedResolution, number>;
  rootsRequested: number;
  /** Responses that arrived after their request had timed out or been aborted. */
  lateResponses: number;
}

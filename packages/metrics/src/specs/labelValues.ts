// Label values shared by several metrics. Callers should use these spellings. This file imports
// nothing (the network package reads it as `@metronome/metrics/labels` without loading prom-client):
// the network counts req/resp results under REQRESP_RESULTS itself. Where it counts other events
// under its own constants (gossip kinds and verdicts, peer-score actions),
// packages/node/test/node/metricLabels.test.ts pins the two equal.

export const SYNC_STATUSES = ["idle", "syncing", "synced"] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/** `kind` of gossip attestation work: a single signed attestation or an aggregate. */
export const ATTESTATION_KINDS = ["single", "aggregated"] as const;
/** Gossip topic kinds (the subnet is not a label, to keep cardinality fixed). */
export const GOSSIP_TOPICS = ["block", "attestation", "aggregation"] as const;
export const GOSSIP_RESULTS = ["accept", "reject", "ignore"] as const;
export const GOSSIP_DECODE_REASONS = ["not_snappy", "too_large", "bad_ssz", "bad_topic"] as const;
export const GOSSIP_ATTESTATION_DROP_REASONS = [
  "idle",
  "future_slot",
  "queue_full",
  "invalid",
  "invalid_signature",
  "already_known",
] as const;
export const BLOCK_FETCH_OUTCOMES = [
  "already_in_forkchoice",
  "already_in_block_cache",
  "already_pending",
  "fetched",
  "fetch_no_peers",
  "fetch_failed",
  "inflight_cap",
] as const;
/** Why the orphan-block pool let a block go (its count cap, its byte cap, or a block over the byte cap). */
export const ORPHAN_DROP_REASONS = ["evicted_count", "evicted_bytes", "too_large"] as const;
export const PENDING_BUFFER_REASONS = ["unknown_block", "future_slot"] as const;
export const PENDING_REPLAY_OUTCOMES = ["accepted", "buffered", "dropped"] as const;
export const REQRESP_PROTOCOLS = ["status", "blocks_by_root", "blocks_by_range"] as const;
export const REQRESP_DIRECTIONS = ["inbound", "outbound"] as const;
export const REQRESP_RESULTS = [
  "success",
  "invalid_request",
  "server_error",
  "resource_unavailable",
  "timeout",
  "rate_limited",
  "error",
] as const;
export const WORKER_DROP_REASONS = ["queue_full", "closed", "worker_failed"] as const;
/** Duties a validator signs with its key (aggregates carry others' signatures). */
export const SIGNING_DUTIES = ["block", "attestation"] as const;
/** Why slashing protection refused a signature; `error`: the record could not be read or written. */
export const SLASHING_REFUSAL_REASONS = ["double_sign", "unknown_root", "below_lowest_slot", "error"] as const;
export const DOPPELGANGER_SKIP_REASONS = ["waiting", "detected"] as const;
/** `kind` of a verification worker job; the pool runs one kind today. */
export const WORKER_JOB_KINDS = ["bls_verify"] as const;
export const WORKER_JOB_RESULTS = ["success", "error"] as const;
export const BLS_SET_RESULTS = ["valid", "invalid"] as const;
export const SSE_DROP_REASONS = ["slow_consumer", "too_many_subscribers"] as const;
/** Kinds of database write (metronome_db_*). */
export const DB_WRITE_KINDS = ["block", "finality"] as const;
export const HTTP_CONNECTION_DROP_REASONS = [
  "request_timeout",
  "idle_timeout",
  "max_connections",
  "bad_request",
] as const;
export const HTTP_REFUSAL_REASONS = ["rate_limited", "unauthorized", "verifier_busy"] as const;
/** Quantiles of metronome_event_loop_delay_seconds; "1" is the maximum. */
export const EVENT_LOOP_QUANTILES = ["0.5", "0.99", "1"] as const;
/** Honest-vote coverage: a validator's vote counted by the end of the next slot, or not. */
export const VOTE_COVERAGE_RESULTS = ["applied", "missing"] as const;

// The one table of every metric a Metronome node exports: the shared lean-client list
// (leanEthereum/leanMetrics metrics.md, names/types/labels/buckets exactly as written there) and
// Metronome's own runtime metrics. createMetrics builds from this table and the tests iterate it,
// so a metric that is not here does not exist.

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram upper bounds, ascending, without +Inf. */
  readonly buckets?: readonly number[];
  /**
   * Label values known in advance. When every label of a metric has a list here, each combination
   * is created at 0 on start-up, so dashboards see the series (and rate() works) before the first
   * event. Labels without a list take whatever value the caller passes.
   */
  readonly labelValues?: Readonly<Record<string, readonly string[]>>;
}

type SpecGroup = Readonly<Record<string, MetricSpec>>;

// ---------------------------------------------------------------------------------------------
// Label values shared by several metrics. Callers should use these spellings.
// ---------------------------------------------------------------------------------------------

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
export const VOTE_COVERAGE_RESULTS = ["applied", "missing"] as const;

export const EVENT_LOOP_QUANTILES = ["0.5", "0.99", "1"] as const;

const BLS_NOTE = "In Metronome this counts BLS signatures; the lean_pq_sig_ name is kept for shared dashboards.";

// ---------------------------------------------------------------------------------------------
// The lean-client list (metrics.md). Do not rename, retype or re-bucket anything here.
// ---------------------------------------------------------------------------------------------

export const LEAN_METRICS = {
  nodeInfo: {
    info: {
      name: "lean_node_info",
      type: "gauge",
      help: "Node information (always 1)",
      labels: ["name", "version"],
    },
    startTimeSeconds: {
      name: "lean_node_start_time_seconds",
      type: "gauge",
      help: "Start timestamp",
      labels: [],
    },
  },
  pqSig: {
    attestationSignatures: {
      name: "lean_pq_sig_attestation_signatures_total",
      type: "counter",
      help: `Total number of individual attestation signatures. ${BLS_NOTE}`,
      labels: [],
    },
    attestationSignaturesValid: {
      name: "lean_pq_sig_attestation_signatures_valid_total",
      type: "counter",
      help: `Total number of valid individual attestation signatures. ${BLS_NOTE}`,
      labels: [],
    },
    attestationSignaturesInvalid: {
      name: "lean_pq_sig_attestation_signatures_invalid_total",
      type: "counter",
      help: `Total number of invalid individual attestation signatures. ${BLS_NOTE}`,
      labels: [],
    },
    attestationSigningTimeSeconds: {
      name: "lean_pq_sig_attestation_signing_time_seconds",
      type: "histogram",
      help: `Time taken to sign an attestation. ${BLS_NOTE}`,
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1],
    },
    attestationVerificationTimeSeconds: {
      name: "lean_pq_sig_attestation_verification_time_seconds",
      type: "histogram",
      help:
        `Time taken to verify an attestation signature. ${BLS_NOTE} Metronome: from handing the signature to the ` +
        "verifier (a batching worker pool) to its verdict, sampled at most 10 times a second",
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1],
    },
    aggregatedSignatures: {
      name: "lean_pq_sig_aggregated_signatures_total",
      type: "counter",
      help: `Total number of aggregated signatures. ${BLS_NOTE}`,
      labels: [],
    },
    aggregatedSignaturesValid: {
      name: "lean_pq_sig_aggregated_signatures_valid_total",
      type: "counter",
      help: `Total number of valid aggregated signatures. ${BLS_NOTE}`,
      labels: [],
    },
    aggregatedSignaturesInvalid: {
      name: "lean_pq_sig_aggregated_signatures_invalid_total",
      type: "counter",
      help: `Total number of invalid aggregated signatures. ${BLS_NOTE}`,
      labels: [],
    },
    attestationsInAggregatedSignatures: {
      name: "lean_pq_sig_attestations_in_aggregated_signatures_total",
      type: "counter",
      help: `Total number of attestations included into aggregated signatures. ${BLS_NOTE}`,
      labels: [],
    },
    aggregatedSignaturesBuildingTimeSeconds: {
      name: "lean_pq_sig_aggregated_signatures_building_time_seconds",
      type: "histogram",
      help: `Time taken to build an aggregated attestation signature. ${BLS_NOTE}`,
      labels: [],
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 4],
    },
    aggregatedSignaturesVerificationTimeSeconds: {
      name: "lean_pq_sig_aggregated_signatures_verification_time_seconds",
      type: "histogram",
      help:
        `Time taken to verify an aggregated attestation signature. ${BLS_NOTE} Metronome: from handing the ` +
        "signature to the verifier (a batching worker pool) to its verdict, sampled at most 10 times a second",
      labels: [],
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 4],
    },
  },
  blockProduction: {
    aggregatedPayloads: {
      name: "lean_block_aggregated_payloads",
      type: "histogram",
      help: "Number of aggregated_payloads in a block (Metronome: aggregated attestations in the body)",
      labels: [],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    },
    payloadAggregationTimeSeconds: {
      name: "lean_block_building_payload_aggregation_time_seconds",
      type: "histogram",
      help:
        "Time taken to build aggregated_payloads during block building (Metronome: choosing the pool aggregates " +
        "the block carries)",
      labels: [],
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 2, 3, 4],
    },
    buildingTimeSeconds: {
      name: "lean_block_building_time_seconds",
      type: "histogram",
      help: "Time taken to build a block",
      labels: [],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1],
    },
    buildingSuccess: {
      name: "lean_block_building_success_total",
      type: "counter",
      help: "Successful block builds",
      labels: [],
    },
    buildingFailures: {
      name: "lean_block_building_failures_total",
      type: "counter",
      help: "Failed block builds (exception in build_block)",
      labels: [],
    },
  },
  forkChoice: {
    headSlot: {
      name: "lean_head_slot",
      type: "gauge",
      help: "Latest slot of the lean chain",
      labels: [],
    },
    currentSlot: {
      name: "lean_current_slot",
      type: "gauge",
      help: "Current slot of the lean chain",
      labels: [],
    },
    safeTargetSlot: {
      name: "lean_safe_target_slot",
      type: "gauge",
      help: "Safe target slot",
      labels: [],
    },
    blockProcessingTimeSeconds: {
      name: "lean_fork_choice_block_processing_time_seconds",
      type: "histogram",
      help: "Time taken to process block",
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1, 1.25, 1.5, 2, 4],
    },
    attestationsValid: {
      name: "lean_attestations_valid_total",
      type: "counter",
      help: "Total number of valid attestations",
      labels: [],
    },
    attestationsInvalid: {
      name: "lean_attestations_invalid_total",
      type: "counter",
      help: "Total number of invalid attestations",
      labels: [],
    },
    attestationValidationTimeSeconds: {
      name: "lean_attestation_validation_time_seconds",
      type: "histogram",
      help:
        "Time taken to validate attestation (Metronome: the structural checks before the signature check, " +
        "sampled at most 10 times a second)",
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1],
    },
    reorgs: {
      name: "lean_fork_choice_reorgs_total",
      type: "counter",
      help: "Total number of fork choice reorgs",
      labels: [],
    },
    reorgDepth: {
      name: "lean_fork_choice_reorg_depth",
      type: "histogram",
      help: "Depth of fork choice reorgs (in blocks)",
      labels: [],
      buckets: [1, 2, 3, 5, 7, 10, 20, 30, 50, 100],
    },
    gossipSignatures: {
      name: "lean_gossip_signatures",
      type: "gauge",
      help:
        "Number of gossip signatures in fork-choice store (Metronome: verified single attestations the " +
        "aggregator holds until it aggregates them)",
      labels: [],
    },
    latestNewAggregatedPayloads: {
      name: "lean_latest_new_aggregated_payloads",
      type: "gauge",
      help:
        "Number of new aggregated payload items (Metronome keeps votes, not payloads: validators whose latest " +
        "vote is received but not yet counted by fork choice)",
      labels: [],
    },
    latestKnownAggregatedPayloads: {
      name: "lean_latest_known_aggregated_payloads",
      type: "gauge",
      help: "Number of known aggregated payload items (Metronome: verified aggregates pooled for block production)",
      labels: [],
    },
    committeeSignaturesAggregationTimeSeconds: {
      name: "lean_committee_signatures_aggregation_time_seconds",
      type: "histogram",
      help: "Time taken to aggregate committee signatures (one aggregation cycle of the aggregator)",
      labels: [],
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 3, 4],
    },
    syncStatus: {
      name: "lean_node_sync_status",
      type: "gauge",
      help: "Node sync status (1 for the current status, 0 for the others)",
      labels: ["status"],
      labelValues: { status: SYNC_STATUSES },
    },
    tickIntervalDurationSeconds: {
      name: "lean_tick_interval_duration_seconds",
      type: "histogram",
      help: "Elapsed time between clock ticks in seconds",
      labels: [],
      buckets: [0.4, 0.6, 0.75, 0.8, 0.805, 0.81, 0.815, 0.82, 0.825, 0.85, 0.9, 1.0, 1.2, 1.6],
    },
  },
  stateTransition: {
    latestJustifiedSlot: {
      name: "lean_latest_justified_slot",
      type: "gauge",
      help: "Latest justified slot",
      labels: [],
    },
    latestFinalizedSlot: {
      name: "lean_latest_finalized_slot",
      type: "gauge",
      help: "Latest finalized slot",
      labels: [],
    },
    justifiedSlot: {
      name: "lean_justified_slot",
      type: "gauge",
      help: "Current justified slot",
      labels: [],
    },
    finalizedSlot: {
      name: "lean_finalized_slot",
      type: "gauge",
      help: "Current finalized slot",
      labels: [],
    },
    finalizations: {
      name: "lean_finalizations_total",
      type: "counter",
      help: "Total number of finalization attempts",
      labels: ["result"],
      labelValues: { result: ["success", "error"] },
    },
    timeSeconds: {
      name: "lean_state_transition_time_seconds",
      type: "histogram",
      help: "Time to process state transition",
      labels: [],
      buckets: [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4],
    },
    slotsProcessed: {
      name: "lean_state_transition_slots_processed_total",
      type: "counter",
      help: "Total number of processed slots",
      labels: [],
    },
    slotsProcessingTimeSeconds: {
      name: "lean_state_transition_slots_processing_time_seconds",
      type: "histogram",
      help: "Time taken to process slots",
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1],
    },
    blockProcessingTimeSeconds: {
      name: "lean_state_transition_block_processing_time_seconds",
      type: "histogram",
      help: "Time taken to process block",
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1],
    },
    attestationsProcessed: {
      name: "lean_state_transition_attestations_processed_total",
      type: "counter",
      help: "Total number of processed attestations",
      labels: [],
    },
    attestationsProcessingTimeSeconds: {
      name: "lean_state_transition_attestations_processing_time_seconds",
      type: "histogram",
      help: "Time taken to process attestations",
      labels: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 1],
    },
  },
  validator: {
    validatorsCount: {
      name: "lean_validators_count",
      type: "gauge",
      help: "Number of validators managed by a node",
      labels: [],
    },
    isAggregator: {
      name: "lean_is_aggregator",
      type: "gauge",
      help: "Validator's is_aggregator status. True=1, False=0",
      labels: [],
    },
    attestationsProductionTimeSeconds: {
      name: "lean_attestations_production_time_seconds",
      type: "histogram",
      help: "Time taken to produce attestation",
      labels: [],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1],
    },
    // Metronome aggregates inline on the main thread from the votes it holds, whatever its sync
    // state and with no pre-state lookup or worker: only not_aggregator and other (a late tick
    // skipped a stale slot's duty) can happen; not_synced, missing_state and spawn_failed stay 0.
    aggregatorSkipped: {
      name: "lean_aggregator_skipped_total",
      type: "counter",
      help:
        "Total number of aggregation submissions skipped, labeled by reason: not_aggregator (no duty this slot), " +
        "not_synced, missing_state, spawn_failed (aggregation worker queue full), other. " +
        "Sum across labels = total aggregation cycles seen.",
      labels: ["reason"],
      labelValues: { reason: ["not_aggregator", "not_synced", "missing_state", "spawn_failed", "other"] },
    },
  },
  network: {
    connectedPeers: {
      name: "lean_connected_peers",
      type: "gauge",
      help: "Number of connected peers",
      labels: ["client"],
    },
    // Inbound connections that fail never reach the node (libp2p drops them during the upgrade),
    // so inbound timeout/error stay 0; outbound dial failures are counted.
    peerConnectionEvents: {
      name: "lean_peer_connection_events_total",
      type: "counter",
      help: "Total number of peer connection events",
      labels: ["direction", "result"],
      labelValues: { direction: ["inbound", "outbound"], result: ["success", "timeout", "error"] },
    },
    // libp2p does not say why a connection closed: local_close is a hang-up this node asked for,
    // every other close counts as remote_close; timeout and error stay 0.
    peerDisconnectionEvents: {
      name: "lean_peer_disconnection_events_total",
      type: "counter",
      help: "Total number of peer disconnection events",
      labels: ["direction", "reason"],
      labelValues: {
        direction: ["inbound", "outbound"],
        reason: ["timeout", "remote_close", "local_close", "error"],
      },
    },
    gossipMeshPeers: {
      name: "lean_gossip_mesh_peers",
      type: "gauge",
      help: "Number of peers in the gossipsub mesh",
      labels: ["client"],
    },
    attestationCommitteeSubnet: {
      name: "lean_attestation_committee_subnet",
      type: "gauge",
      help:
        "Node's attestation committee subnet (Metronome: the subnet of its lowest validator index; 0 " +
        "without validators)",
      labels: [],
    },
    attestationCommitteeCount: {
      name: "lean_attestation_committee_count",
      type: "gauge",
      help: "Number of attestation committees (ATTESTATION_COMMITTEE_COUNT)",
      labels: [],
    },
    gossipBlockSizeBytes: {
      name: "lean_gossip_block_size_bytes",
      type: "histogram",
      help: "Bytes size of a gossip block message (as received, snappy-compressed; sampled: at most 256 per interval)",
      labels: [],
      buckets: [10000, 50000, 100000, 250000, 500000, 1000000, 2000000, 5000000],
    },
    gossipAttestationSizeBytes: {
      name: "lean_gossip_attestation_size_bytes",
      type: "histogram",
      help: "Bytes size of a gossip attestation message (as received, snappy-compressed; sampled: at most 256 per interval)",
      labels: [],
      buckets: [512, 1024, 2048, 4096, 8192, 16384],
    },
    gossipAggregationSizeBytes: {
      name: "lean_gossip_aggregation_size_bytes",
      type: "histogram",
      help:
        "Bytes size of a gossip aggregated attestation message (as received, snappy-compressed; sampled: at most " +
        "256 per interval)",
      labels: [],
      buckets: [1024, 4096, 16384, 65536, 131072, 262144, 524288, 1048576],
    },
  },
} as const satisfies Readonly<Record<string, SpecGroup>>;

// ---------------------------------------------------------------------------------------------
// Metronome runtime metrics: what an operator watches when gossip floods the node (is the slot
// clock on time, is the loop starved, where does work get dropped, is the fetcher bounded).
// ---------------------------------------------------------------------------------------------

export const RUNTIME_METRICS = {
  runtime: {
    // Chain
    blockVotes: {
      name: "metronome_block_votes",
      type: "histogram",
      help: "Validator votes carried by each imported block (participants summed over its aggregated attestations): how well votes reach the proposers",
      labels: [],
      buckets: [0, 1, 4, 16, 64, 256, 1024, 4096],
    },
    // Gossip ingress
    gossipAttestationsDropped: {
      name: "metronome_gossip_attestations_dropped_total",
      type: "counter",
      help:
        "Gossip attestations/aggregates dropped before reaching the store, by kind (single|aggregated) and " +
        "reason (idle: sync gate; future_slot: beyond the buffer window; queue_full; invalid; invalid_signature)",
      labels: ["kind", "reason"],
      labelValues: { kind: ATTESTATION_KINDS, reason: GOSSIP_ATTESTATION_DROP_REASONS },
    },
    gossipMessages: {
      name: "metronome_gossip_messages_total",
      type: "counter",
      help: "Gossip messages by topic kind and validation result reported to gossipsub (accept|reject|ignore)",
      labels: ["topic", "result"],
      labelValues: { topic: GOSSIP_TOPICS, result: GOSSIP_RESULTS },
    },
    gossipDecodeErrors: {
      name: "metronome_gossip_decode_errors_total",
      type: "counter",
      help: "Gossip messages that failed to decode, by topic kind and reason",
      labels: ["topic", "reason"],
      // "unknown": a topic that does not parse (reason bad_topic) has no kind.
      labelValues: { topic: [...GOSSIP_TOPICS, "unknown"], reason: GOSSIP_DECODE_REASONS },
    },
    // Block fetcher
    blocksByRootInflight: {
      name: "metronome_blocks_by_root_inflight",
      type: "gauge",
      help: "Outbound BlocksByRoot requests in flight right now (bounded by metronome_blocks_by_root_inflight_max)",
      labels: [],
    },
    blocksByRootInflightMax: {
      name: "metronome_blocks_by_root_inflight_max",
      type: "gauge",
      help: "Cap on concurrent outbound BlocksByRoot requests",
      labels: [],
    },
    blockFetchDedup: {
      name: "lean_block_fetch_dedup_total",
      type: "counter",
      help:
        "Wanted block roots by fetch outcome; each root lands in exactly one outcome " +
        "(inflight_cap: refused because the in-flight cap was reached, root stays wanted)",
      labels: ["outcome"],
      labelValues: { outcome: BLOCK_FETCH_OUTCOMES },
    },
    blockFetchWantedRoots: {
      name: "metronome_block_fetch_wanted_roots",
      type: "gauge",
      help: "Block roots wanted but not yet requested (waiting for a free BlocksByRoot slot)",
      labels: [],
    },
    orphanBlocks: {
      name: "metronome_orphan_blocks",
      type: "gauge",
      help: "Blocks held while their parent is fetched",
      labels: [],
    },
    // Node driver (the bounded loop that drains inbound work between clock ticks)
    driverPasses: {
      name: "metronome_driver_passes_total",
      type: "counter",
      help: "Passes of the node driver loop (liveness signal independent of the slot clock)",
      labels: [],
    },
    driverBatchSize: {
      name: "metronome_driver_batch_size",
      type: "histogram",
      help: "Work items handled in one driver pass",
      labels: [],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    },
    driverPassDurationSeconds: {
      name: "metronome_driver_pass_duration_seconds",
      type: "histogram",
      help: "Time one driver pass held the event loop (passes that handled work or a tick; idle wake-ups are not observed)",
      labels: [],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    },
    // Pending-attestation buffer (names shared with other lean clients)
    pendingAttestationsBuffered: {
      name: "lean_pending_attestations_buffered_total",
      type: "counter",
      help: "Attestations pushed into the pending buffer, by kind and reason (unknown_block|future_slot)",
      labels: ["kind", "reason"],
      labelValues: { kind: ATTESTATION_KINDS, reason: PENDING_BUFFER_REASONS },
    },
    pendingAttestationsEvicted: {
      name: "lean_pending_attestations_evicted_total",
      type: "counter",
      help: "Oldest pending attestations evicted because the buffer was full",
      labels: ["kind"],
      labelValues: { kind: ATTESTATION_KINDS },
    },
    pendingAttestationsReplay: {
      name: "lean_pending_attestations_replay_total",
      type: "counter",
      help: "Pending attestations replayed after a block import, by outcome (accepted|buffered|dropped)",
      labels: ["kind", "outcome"],
      labelValues: { kind: ATTESTATION_KINDS, outcome: PENDING_REPLAY_OUTCOMES },
    },
    pendingAttestationsSize: {
      name: "lean_pending_attestations_size",
      type: "gauge",
      help: "Entries in the pending-attestation buffer",
      labels: ["kind"],
      labelValues: { kind: ATTESTATION_KINDS },
    },
    // Bounded queues and the verification worker
    queueDepth: {
      name: "metronome_queue_depth",
      type: "gauge",
      help: "Items waiting in a bounded node queue",
      labels: ["queue"],
    },
    queueDropped: {
      name: "metronome_queue_dropped_total",
      type: "counter",
      help: "Items a bounded node queue refused or evicted, by queue and reason",
      labels: ["queue", "reason"],
    },
    workerQueueDepth: {
      name: "metronome_worker_queue_depth",
      type: "gauge",
      help: "Jobs waiting for the verification worker pool",
      labels: [],
    },
    workerJobs: {
      name: "metronome_worker_jobs_total",
      type: "counter",
      help: "Jobs run by the verification worker pool, by kind (bls_verify) and result (success|error)",
      labels: ["kind", "result"],
      labelValues: { kind: WORKER_JOB_KINDS, result: WORKER_JOB_RESULTS },
    },
    workerDropped: {
      name: "metronome_worker_dropped_total",
      type: "counter",
      help: "Signature sets the worker pool refused or abandoned, by reason (queue_full|closed|worker_failed)",
      labels: ["reason"],
      labelValues: { reason: WORKER_DROP_REASONS },
    },
    blsBatchSize: {
      name: "metronome_bls_batch_size",
      type: "histogram",
      help: "Signature sets verified in one BLS batch",
      labels: [],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    },
    blsBatchFallbacks: {
      name: "metronome_bls_batch_fallbacks_total",
      type: "counter",
      help: "BLS batches that failed and were re-verified one set at a time",
      labels: [],
    },
    blsVerifySeconds: {
      name: "metronome_bls_verify_seconds_total",
      type: "counter",
      help: "Seconds the BLS verifier spent verifying signature sets (worker busy time)",
      labels: [],
    },
    blsSetsVerified: {
      name: "metronome_bls_sets_verified_total",
      type: "counter",
      help: "Signature sets the BLS verifier checked, by result (valid|invalid)",
      labels: ["result"],
      labelValues: { result: BLS_SET_RESULTS },
    },
    // Slot clock
    tickLatenessSeconds: {
      name: "metronome_tick_lateness_seconds",
      type: "histogram",
      help: "How late an interval tick ran after its wall-clock boundary",
      labels: [],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 5],
    },
    intervalsMissed: {
      name: "metronome_intervals_missed_total",
      type: "counter",
      help: "Intervals not serviced at their own tick: run late in a catch-up batch, or dropped by the catch-up cap",
      labels: [],
    },
    ticks: {
      name: "metronome_ticks_total",
      type: "counter",
      help: "Interval ticks run",
      labels: [],
    },
    lastTickTimestampSeconds: {
      name: "metronome_last_tick_timestamp_seconds",
      type: "gauge",
      help: "Unix time of the last interval tick (a supervisor alerts when it stops moving)",
      labels: [],
    },
    eventLoopDelaySeconds: {
      name: "metronome_event_loop_delay_seconds",
      type: "gauge",
      help:
        "Event-loop delay beyond the 10 ms sampling interval, over the window since the previous scrape " +
        "(quantile 0.5, 0.99, and 1 = max)",
      labels: ["quantile"],
      labelValues: { quantile: EVENT_LOOP_QUANTILES },
    },
    // In-node validators' signing gate
    slashingProtectionRefusals: {
      name: "metronome_slashing_protection_refusals_total",
      type: "counter",
      help: "In-node validator signatures slashing protection refused, by duty and reason (error: the record failed)",
      labels: ["duty", "reason"],
      labelValues: { duty: SIGNING_DUTIES, reason: SLASHING_REFUSAL_REASONS },
    },
    doppelgangerSkipped: {
      name: "metronome_doppelganger_skipped_total",
      type: "counter",
      help: "In-node validator signatures not made because of the doppelganger wait or a detected doppelganger",
      labels: ["duty", "reason"],
      labelValues: { duty: SIGNING_DUTIES, reason: DOPPELGANGER_SKIP_REASONS },
    },
    doppelgangerState: {
      name: "metronome_doppelganger_state",
      type: "gauge",
      help: "Doppelganger watch: 0 off, 1 waiting (not signing yet), 2 passed (signing), 3 detected (signing nothing)",
      labels: [],
    },
    syncState: {
      name: "metronome_sync_state",
      type: "gauge",
      help: "Sync state as one number: 0 idle, 1 syncing, 2 synced",
      labels: [],
    },
    // Req/resp and API
    reqrespRequests: {
      name: "metronome_reqresp_requests_total",
      type: "counter",
      help: "Req/resp requests by protocol, direction and result",
      labels: ["protocol", "direction", "result"],
      labelValues: { protocol: REQRESP_PROTOCOLS, direction: REQRESP_DIRECTIONS, result: REQRESP_RESULTS },
    },
    reqrespRateLimited: {
      name: "metronome_reqresp_rate_limited_total",
      type: "counter",
      help: "Inbound req/resp requests refused by the per-peer rate limiter",
      labels: ["protocol"],
      labelValues: { protocol: REQRESP_PROTOCOLS },
    },
    // Peer scoring (docs/protocol.md, "Peer scoring")
    peerScore: {
      name: "metronome_peer_gossip_score",
      type: "histogram",
      help:
        "Gossipsub scores of connected peers, sampled once a second per peer (graylist -16000, publish -8000, " +
        "gossip -4000, positive capped at 100)",
      labels: [],
      buckets: [-16000, -8000, -4000, -1000, -100, 0, 10, 50, 100],
    },
    peersGraylisted: {
      name: "metronome_peers_graylisted",
      type: "gauge",
      help: "Connected peers below the gossipsub graylist threshold at the last score check",
      labels: [],
    },
    peersGraylistedTotal: {
      name: "metronome_peers_graylisted_total",
      type: "counter",
      help: "Peers seen falling below the gossipsub graylist threshold",
      labels: [],
    },
    peerScoreDisconnects: {
      name: "metronome_peer_score_disconnects_total",
      type: "counter",
      help: "Peers disconnected and banned for their score, by reason: gossip_score (below the graylist), app_score (req/resp abuse)",
      labels: ["reason"],
      labelValues: { reason: ["gossip_score", "app_score"] },
    },
    peerScorePenalties: {
      name: "metronome_peer_score_penalties_total",
      type: "counter",
      help: "Application-level peer score penalties, by action",
      labels: ["action"],
      labelValues: { action: ["rate_limited", "invalid_request", "malformed_response", "oversized_response"] },
    },
    peersBanned: {
      name: "metronome_peers_banned",
      type: "gauge",
      help: "Peers currently banned (refused on dial and inbound) after a score disconnection",
      labels: [],
    },
    peerConnectionsRefused: {
      name: "metronome_peer_connections_refused_total",
      type: "counter",
      help: "Dials and inbound connections refused because the peer is banned",
      labels: [],
    },
    // Database write queue (blocks, then finality batches; bounded, retried)
    dbWriteQueueWrites: {
      name: "metronome_db_write_queue_writes",
      type: "gauge",
      help: "Database writes waiting or running (block writes and finality batches)",
      labels: [],
    },
    dbWriteQueueBytes: {
      name: "metronome_db_write_queue_bytes",
      type: "gauge",
      help: "Serialized bytes held by waiting database writes",
      labels: [],
    },
    dbWrites: {
      name: "metronome_db_writes_total",
      type: "counter",
      help: "Database writes that landed, by kind (block|finality)",
      labels: ["kind"],
      labelValues: { kind: DB_WRITE_KINDS },
    },
    dbWriteFailures: {
      name: "metronome_db_write_failures_total",
      type: "counter",
      help: "Failed database write attempts, by kind (block|finality); each is retried with backoff",
      labels: ["kind"],
      labelValues: { kind: DB_WRITE_KINDS },
    },
    dbWriteConsecutiveFailures: {
      name: "metronome_db_write_consecutive_failures",
      type: "gauge",
      help: "Failures in a row of the database write at the head of the queue (0 while writes succeed)",
      labels: [],
    },
    dbFinalitySuperseded: {
      name: "metronome_db_finality_superseded_total",
      type: "counter",
      help: "Queued or failing finality writes replaced by a later finality (whose batch covers their range)",
      labels: [],
    },
    dbImportsRefused: {
      name: "metronome_db_imports_refused_total",
      type: "counter",
      help: "Block imports refused because the database write queue was at its bound",
      labels: [],
    },
    dbBackpressure: {
      name: "metronome_db_backpressure",
      type: "gauge",
      help: "1 while block import waits for room in the database write queue",
      labels: [],
    },
    sseSubscribers: {
      name: "metronome_sse_subscribers",
      type: "gauge",
      help: "Open /eth/v1/events streams",
      labels: [],
    },
    sseDropped: {
      name: "metronome_sse_dropped_total",
      type: "counter",
      help: "Event streams closed by the node, by reason (slow_consumer|too_many_subscribers)",
      labels: ["reason"],
      labelValues: { reason: SSE_DROP_REASONS },
    },
    httpOpenConnections: {
      name: "metronome_http_open_connections",
      type: "gauge",
      help: "Open sockets of the HTTP API server (capped; see docs/operations.md)",
      labels: [],
    },
    httpConnectionsDropped: {
      name: "metronome_http_connections_dropped_total",
      type: "counter",
      help: "HTTP API connections closed by the node, by reason (request_timeout|idle_timeout|max_connections|bad_request)",
      labels: ["reason"],
      labelValues: { reason: HTTP_CONNECTION_DROP_REASONS },
    },
    httpRequestsRefused: {
      name: "metronome_http_requests_refused_total",
      type: "counter",
      help: "HTTP API requests refused before their work, by reason (rate_limited = 429, unauthorized = 401, verifier_busy = 503)",
      labels: ["reason"],
      labelValues: { reason: HTTP_REFUSAL_REASONS },
    },
    httpApiSignatures: {
      name: "metronome_http_api_signatures_total",
      type: "counter",
      help: "Attestation signatures posted to the validator API and verified through the BLS verifier, by verdict",
      labels: ["result"],
      labelValues: { result: BLS_SET_RESULTS },
    },
  },

  // ---- honest-vote coverage (issue 15; the flood benchmark reads it) --------------------------
  // Measured by fork choice once per slot as it leaves slot s+1: the validators whose counted vote
  // is for slot s or later. Under a flood this says whether honest votes still get through.
  voteCoverage: {
    ratio: {
      name: "metronome_vote_coverage_ratio",
      type: "gauge",
      help: "Share of all validators whose slot-s vote (or a newer one) fork choice had counted by the end of slot s+1, for the last slot measured",
      labels: [],
    },
    votes: {
      name: "metronome_vote_coverage_votes_total",
      type: "counter",
      help: "Validator votes checked for honest-vote coverage, one per validator per slot, by result: applied (counted by the end of the next slot) or missing",
      labels: ["result"],
      labelValues: { result: VOTE_COVERAGE_RESULTS },
    },
  },
} as const satisfies Readonly<Record<string, SpecGroup>>;

export const METRIC_SPECS = { ...LEAN_METRICS, ...RUNTIME_METRICS } as const;
export type MetricSpecs = typeof METRIC_SPECS;

export interface ListedSpec {
  /** "lean" for the shared list, "runtime" for Metronome's own. */
  readonly list: "lean" | "runtime";
  readonly group: string;
  readonly field: string;
  readonly spec: MetricSpec;
}

/** Every metric in table order, for tests and docs. */
export function listMetricSpecs(): ListedSpec[] {
  const out: ListedSpec[] = [];
  const lists = [
    ["lean", LEAN_METRICS],
    ["runtime", RUNTIME_METRICS],
  ] as const;
  for (const [list, groups] of lists) {
    for (const [group, fields] of Object.entries(groups)) {
      for (const [field, spec] of Object.entries(fields as SpecGroup)) out.push({ list, group, field, spec });
    }
  }
  return out;
}

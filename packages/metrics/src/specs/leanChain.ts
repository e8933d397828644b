// The lean-client list (leanEthereum/leanMetrics metrics.md): do not rename, retype or re-bucket
// anything here. specs.ts assembles these groups into LEAN_METRICS.
// This file: fork choice and the state transition.

import { SYNC_STATUSES } from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const LEAN_FORK_CHOICE = {
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
} as const satisfies SpecGroup;

export const LEAN_STATE_TRANSITION = {
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
} as const satisfies SpecGroup;

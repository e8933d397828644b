// The lean-client list (leanEthereum/leanMetrics metrics.md): do not rename, retype or re-bucket
// anything here. specs.ts assembles these groups into LEAN_METRICS.
// This file: node info, signatures (BLS under the lean_pq_sig_ names), block production.

import type { SpecGroup } from "./types.ts";

const BLS_NOTE = "In Metronome this counts BLS signatures; the lean_pq_sig_ name is kept for shared dashboards.";

export const LEAN_NODE_INFO = {
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
} as const satisfies SpecGroup;

export const LEAN_PQ_SIG = {
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
} as const satisfies SpecGroup;

export const LEAN_BLOCK_PRODUCTION = {
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
} as const satisfies SpecGroup;

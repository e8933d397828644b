// The lean-client list (leanEthereum/leanMetrics metrics.md): do not rename, retype or re-bucket
// anything here. specs.ts assembles these groups into LEAN_METRICS.
// This file: validators and the network.

import type { SpecGroup } from "./types.ts";

export const LEAN_VALIDATOR = {
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
} as const satisfies SpecGroup;

export const LEAN_NETWORK = {
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
} as const satisfies SpecGroup;

// Metronome runtime metrics (metronome_* and a few lean_ names shared with other clients):
// chain votes, gossip ingress, the block fetcher and the node driver.
// specs.ts spreads this into RUNTIME_METRICS.runtime.

import {
  ATTESTATION_KINDS,
  BLOCK_FETCH_OUTCOMES,
  GOSSIP_ATTESTATION_DROP_REASONS,
  GOSSIP_DECODE_REASONS,
  GOSSIP_RESULTS,
  GOSSIP_TOPICS,
  ORPHAN_DROP_REASONS,
} from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const RUNTIME_INGRESS = {
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
      "reason (idle: sync gate; future_slot: beyond the buffer window; queue_full; invalid; invalid_signature; " +
      "already_known: an aggregate adding no participant to the one held for its data)",
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
  gossipRefusedBeforeDecode: {
    name: "metronome_gossip_refused_before_decode_total",
    type: "counter",
    help:
      "Gossip messages the network worker refused as their RPC arrived, before hashing, decompressing or " +
      "decoding them, because the gossip boundary could not take them (full, or their sender held), by " +
      'topic kind; also counted in metronome_queue_dropped_total{queue="gossip_boundary"}',
    labels: ["topic"],
    labelValues: { topic: GOSSIP_TOPICS },
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
  orphanBlocksBytes: {
    name: "metronome_orphan_blocks_bytes",
    type: "gauge",
    help: "Serialized bytes of the blocks held while their parent is fetched (capped at 64 MiB)",
    labels: [],
  },
  orphanBlocksDropped: {
    name: "metronome_orphan_blocks_dropped_total",
    type: "counter",
    help:
      "Blocks with an unknown parent the orphan pool dropped, by reason: evicted_count / evicted_bytes " +
      "(oldest evicted at the count or byte cap), too_large (one block over the byte cap, refused)",
    labels: ["reason"],
    labelValues: { reason: ORPHAN_DROP_REASONS },
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
} as const satisfies SpecGroup;

// Metronome runtime metrics (metronome_* and a few lean_ names shared with other clients):
// req/resp and peer scoring.
// specs.ts spreads this into RUNTIME_METRICS.runtime.

import { REQRESP_DIRECTIONS, REQRESP_PROTOCOLS, REQRESP_RESULTS } from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const RUNTIME_PEERS = {
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
  reqrespResponseBytesInflight: {
    name: "metronome_reqresp_response_bytes_inflight",
    type: "gauge",
    help:
      "Response bytes reserved by outstanding outbound req/resp requests (each reserves its worst case: " +
      "count x the largest valid chunk); capped at 16 MiB for all of them together",
    labels: [],
  },
  reqrespResponseBudgetRefused: {
    name: "metronome_reqresp_response_budget_refused_total",
    type: "counter",
    help: "Outbound req/resp requests refused before sending because their response would not fit in the shared byte budget",
    labels: [],
  },
  networkThreadHeapBytes: {
    name: "metronome_network_thread_heap_bytes",
    type: "gauge",
    help:
      "V8 heap of the thread running libp2p (the network worker's own isolate, beside the main thread's nodejs_heap_*), " +
      "by kind: used, total (committed), external (array buffers and other off-heap memory), " +
      "limit (past it V8 ends the worker out of memory and the node restarts it)",
    labels: ["kind"],
    labelValues: { kind: ["used", "total", "external", "limit"] },
  },
  networkThreadRestarts: {
    name: "metronome_network_thread_restarts_total",
    type: "counter",
    help:
      "Times the network worker died and the node started it again on the same identity and port " +
      "(a crash, or its heap past the limit: the node's log line says which)",
    labels: [],
  },
  networkThreadHeapCollections: {
    name: "metronome_network_thread_heap_collections_total",
    type: "counter",
    help:
      "Full V8 collections the network worker asked for, by kind: full (while its heap in use is past 128 MiB, at most " +
      "one per 10 s), release (once a burst has grown its heap, a last-resort collection when the worker is quiet again, " +
      "which gives the burst's memory back to the OS)",
    labels: ["kind"],
    labelValues: { kind: ["full", "release"] },
  },
  gossipOutboundBufferBytes: {
    name: "metronome_gossip_outbound_buffer_bytes",
    type: "gauge",
    help:
      "Gossip bytes written to peers' outbound streams and not yet read by them, summed over all peers and for the most " +
      "behind one; a peer's stream is aborted past GOSSIP_MAX_OUTBOUND_BUFFER_BYTES",
    labels: ["kind"],
    labelValues: { kind: ["all_peers", "max_peer"] },
  },
  gossipOutboundLostDisconnects: {
    name: "metronome_gossip_outbound_lost_disconnects_total",
    type: "counter",
    help: "Connections closed because the node's gossip stream to the peer was lost (aborted at its byte cap: a peer that does not read)",
    labels: [],
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
    help: "Application-level peer score penalties, by action (unwanted_gossip: a vote more than a slot ahead of the clock)",
    labels: ["action"],
    labelValues: {
      action: ["rate_limited", "invalid_request", "malformed_response", "oversized_response", "unwanted_gossip"],
    },
  },
  peerScorePenaltiesDeferred: {
    name: "metronome_peer_score_penalties_deferred_total",
    type: "counter",
    help: "Req/resp penalties for an exchange that ended early, held to see whether the connection was closing, by outcome: forgiven (the peer disconnected), charged, not_deferred (holding full)",
    labels: ["outcome"],
    labelValues: { outcome: ["forgiven", "charged", "not_deferred"] },
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
} as const satisfies SpecGroup;

// The network's share of the metrics bridge: gossip verdicts and decode failures, req/resp results,
// peer connection events, peer scores, the network thread's memory and gossip message sizes.
import type { MetronomeMetrics } from "@metronome/metrics";
import type { LabelledNetworkStats, NetworkMemoryStats, PeerScoreSummary } from "@metronome/network";
import type { CounterTotals } from "./counterTotals.ts";

/** Req/resp method names as the network layer spells them -> the metrics' protocol label. */
export const REQRESP_PROTOCOL_LABEL = {
  status: "status",
  blocksByRoot: "blocks_by_root",
  blocksByRange: "blocks_by_range",
} as const;

export type GossipSizes = Readonly<Record<"block" | "attestation" | "aggregation", readonly number[]>>;

export function syncNetworkCounters(m: MetronomeMetrics, totals: CounterTotals, stats: LabelledNetworkStats): void {
  totals.advanceTable(m.runtime.gossipMessages, "gossip", stats.gossipVerdicts, "topic", "result");
  totals.advanceTable(m.runtime.gossipDecodeErrors, "decode", stats.gossipDecodeFailures, "topic", "reason");
  for (const [method, directions] of Object.entries(stats.reqresp)) {
    const protocol = REQRESP_PROTOCOL_LABEL[method as keyof typeof REQRESP_PROTOCOL_LABEL];
    for (const [direction, results] of Object.entries(directions)) {
      for (const [result, n] of Object.entries(results)) {
        const labels = { protocol, direction, result };
        totals.advance(m.runtime.reqrespRequests, `reqresp_${method}_${direction}_${result}`, n, labels);
      }
    }
    const rateLimited = directions.inbound.rate_limited;
    totals.advance(m.runtime.reqrespRateLimited, `reqresp_rate_limited_${protocol}`, rateLimited, { protocol });
  }
  totals.advanceTable(m.network.peerConnectionEvents, "peer_connect", stats.peerConnections, "direction", "result");
  const disconnections = stats.peerDisconnections;
  totals.advanceTable(m.network.peerDisconnectionEvents, "peer_disconnect", disconnections, "direction", "reason");
}

export function syncNetworkMemory(
  m: MetronomeMetrics,
  totals: CounterTotals,
  memory: NetworkMemoryStats,
  budgetRefusals: number,
): void {
  const r = m.runtime;
  r.reqrespResponseBytesInflight.set(memory.responseBudget.inFlightBytes);
  totals.advance(r.reqrespResponseBudgetRefused, "reqresp_response_budget_refused", budgetRefusals);
  r.networkThreadHeapBytes.set({ kind: "used" }, memory.heap.usedBytes);
  r.networkThreadHeapBytes.set({ kind: "total" }, memory.heap.totalBytes);
  r.networkThreadHeapBytes.set({ kind: "external" }, memory.heap.externalBytes);
  r.networkThreadHeapBytes.set({ kind: "limit" }, memory.heap.limitBytes);
  r.gossipOutboundBufferBytes.set({ kind: "all_peers" }, memory.gossipOutbound.bufferedBytes);
  r.gossipOutboundBufferBytes.set({ kind: "max_peer" }, memory.gossipOutbound.maxPeerBufferedBytes);
}

export function syncPeerScores(
  m: MetronomeMetrics,
  totals: CounterTotals,
  stats: PeerScoreSummary,
  samples: readonly number[],
): void {
  const r = m.runtime;
  for (const score of samples) r.peerScore.observe(score);
  r.peersGraylisted.set(stats.graylistedNow);
  r.peersBanned.set(stats.bannedNow);
  totals.advance(r.peersGraylistedTotal, "peers_graylisted", stats.graylistedTotal);
  totals.advance(r.peerConnectionsRefused, "peer_connections_refused", stats.refusedConnections);
  totals.advanceEach(r.peerScoreDisconnects, "peer_score_disconnect", stats.disconnects, "reason");
  totals.advanceEach(r.peerScorePenalties, "peer_score_penalty", stats.penalties, "action");
  totals.advanceEach(r.peerScorePenaltiesDeferred, "peer_score_penalty_deferred", stats.deferredPenalties, "outcome");
}

export function observeGossipSizes(m: MetronomeMetrics, sizes: GossipSizes): void {
  const n = m.network;
  for (const bytes of sizes.block) n.gossipBlockSizeBytes.observe(bytes);
  for (const bytes of sizes.attestation) n.gossipAttestationSizeBytes.observe(bytes);
  for (const bytes of sizes.aggregation) n.gossipAggregationSizeBytes.observe(bytes);
}

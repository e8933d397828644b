// Health for an external supervisor (the node never restarts itself). Rules, documented in
// docs/operations.md: unhealthy when the driver has not ticked for 3 intervals, when there are no
// peers, or when the head trails the clock by more than 8 slots while SYNCED.
import { toHex } from "@metronome/chain";
import type { NetworkStats } from "@metronome/network";
import type { NodeHealth } from "../devnet/health.ts";
import type { BeaconNode } from "./beaconNode.ts";

export const STALE_TICK_INTERVALS = 3;
export const MAX_HEAD_LAG_SLOTS = 8;

export function buildHealth(node: BeaconNode): NodeHealth {
  const store = node.chain.store;
  const now = node.clock.now();
  const stats = node.driver.stats;
  const currentSlot = Math.max(0, node.clock.currentSlot());
  const lastTickAge = stats.lastTickAtMs === 0 ? -1 : Math.max(0, now - stats.lastTickAtMs);
  const peers = node.network.peerCount();
  const reasons: string[] = [];
  const beforeGenesis = node.clock.isBeforeGenesis(now);
  if (!beforeGenesis && lastTickAge > STALE_TICK_INTERVALS * node.clock.intervalDurationMs) {
    reasons.push(`no interval tick for ${lastTickAge} ms`);
  }
  if (
    !beforeGenesis &&
    stats.lastTickAtMs === 0 &&
    node.uptimeMs > STALE_TICK_INTERVALS * node.clock.intervalDurationMs
  ) {
    reasons.push("the driver has not ticked since start");
  }
  if (peers === 0) reasons.push("no peers");
  if (node.sync.state === "SYNCED" && currentSlot - store.head.slot > MAX_HEAD_LAG_SLOTS) {
    reasons.push(`head ${store.head.slot} trails slot ${currentSlot}`);
  }
  const chain = node.chain;
  return {
    status: reasons.length === 0 ? "healthy" : "unhealthy",
    reasons,
    node_id: node.options.nodeId,
    peer_id: node.network.peerId,
    fork_digest: node.options.chain.forkDigest,
    current_slot: currentSlot,
    head_slot: store.head.slot,
    head_root: toHex(store.head.root),
    justified_slot: store.latestJustified.slot,
    justified_root: toHex(store.latestJustified.root),
    finalized_slot: store.latestFinalized.slot,
    finalized_root: toHex(store.latestFinalized.root),
    peers,
    sync_state: node.sync.state,
    ticks: stats.ticks,
    last_tick_age_ms: lastTickAge,
    intervals_missed: stats.intervalsMissed,
    drops: {
      ...node.ingress.dropCounters(),
      ...networkDrops(node.network.stats()),
      blocks_invalid: chain.counters.blocksInvalid,
      pending_single_evicted: chain.pendingSingle.stats().evicted,
      pending_aggregated_evicted: chain.pendingAggregated.stats().evicted,
    },
  };
}

/** The network's rejections and refusals: malformed gossip and bad or excess requests. */
function networkDrops(stats: NetworkStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(stats)) {
    if (/rejected|invalid|rate_limited|overload|errors|timeouts/.test(name)) out[name] = n;
  }
  return out;
}

// Health for an external supervisor (the node never restarts itself). Rules, documented in
// docs/operations.md: unhealthy when the driver has not ticked for 3 intervals, when there are no
// peers, when the head trails the clock by more than 8 slots while SYNCED, or while a database write
// is failing (it is retried; finality is not durable until it lands), and while the network worker
// is down (it is being restarted).

import type { NodeHealth } from "@metronome/api";
import { toHex } from "@metronome/chain";
import type { NetworkStats } from "@metronome/network";
import type { NodeView } from "./nodeView.ts";

export const STALE_TICK_INTERVALS = 3;
export const MAX_HEAD_LAG_SLOTS = 8;

export function buildHealth(node: NodeView): NodeHealth {
  const chain = node.chain;
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
  const thread = node.network.threadHealth();
  // While the network worker is down and being restarted the node keeps its clock and chain, but
  // it is cut off: say why rather than only "no peers".
  if (thread.down !== null) reasons.push(thread.down);
  if (peers === 0) reasons.push("no peers");
  if (node.sync.state === "SYNCED" && currentSlot - chain.head.slot > MAX_HEAD_LAG_SLOTS) {
    reasons.push(`head ${chain.head.slot} trails slot ${currentSlot}`);
  }
  const db = chain.writeStats();
  if (db.consecutiveFailures > 0) {
    reasons.push(`database writes failing (${db.consecutiveFailures} in a row, retrying): ${db.lastError}`);
  }
  return {
    status: reasons.length === 0 ? "healthy" : "unhealthy",
    reasons,
    node_id: node.options.nodeId,
    peer_id: node.network.peerId,
    fork_digest: node.options.chain.forkDigest,
    current_slot: currentSlot,
    head_slot: chain.head.slot,
    head_root: toHex(chain.head.root),
    justified_slot: chain.justified.slot,
    justified_root: toHex(chain.justified.root),
    finalized_slot: chain.finalized.slot,
    finalized_root: toHex(chain.finalized.root),
    peers,
    sync_state: node.sync.state,
    ticks: stats.ticks,
    last_tick_age_ms: lastTickAge,
    intervals_missed: stats.intervalsMissed,
    network_thread: thread.thread,
    network_worker_restarts: thread.restarts,
    drops: {
      ...node.ingress.dropCounters(),
      ...networkDrops(node.network.stats()),
      blocks_invalid: chain.counters.blocksInvalid,
      pending_single_evicted: chain.pendingStats("single").evicted,
      pending_aggregated_evicted: chain.pendingStats("aggregated").evicted,
    },
    database: {
      queued_writes: db.writes,
      queued_bytes: db.bytes,
      consecutive_failures: db.consecutiveFailures,
      write_failures: db.failures.block + db.failures.finality,
      last_error: db.lastError,
      finality_superseded: db.superseded,
      imports_refused: db.refused,
      backpressure: db.backpressure,
    },
    signing: signingHealth(node, node.clock.currentSlot()),
  };
}

function signingHealth(node: NodeView, currentSlot: number): NonNullable<NodeHealth["signing"]> {
  const guard = node.signingGuard;
  const watch = guard.doppelganger;
  const evidence = watch.evidence;
  const { refusals, protectionErrors } = guard.counters;
  let refused = protectionErrors.block + protectionErrors.attestation;
  for (const byReason of [refusals.block, refusals.attestation]) {
    for (const n of Object.values(byReason)) refused += n;
  }
  return {
    validators: node.duties.indices.length,
    doppelganger_state: watch.state(currentSlot),
    first_signing_slot: Number.isFinite(watch.firstSigningSlot) ? watch.firstSigningSlot : null,
    doppelganger:
      evidence === null
        ? null
        : {
            validator_index: evidence.validatorIndex,
            duty: evidence.kind,
            slot: evidence.slot,
            signing_root: evidence.signingRoot,
          },
    slashing_protection_refusals: refused,
  };
}

/** The network's rejections and refusals: malformed gossip and bad or excess requests. */
function networkDrops(stats: NetworkStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(stats)) {
    if (/rejected|invalid|rate_limited|overload|errors|timeouts|held/.test(name)) out[name] = n;
  }
  return out;
}

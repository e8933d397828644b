// The driver thread's copy of what the network worker reports every STATS_PUSH_MS, read
// synchronously by health and the metrics bridge. Counters stay monotonic across a worker restart:
// the dead worker's last totals are folded into a base the new worker's totals are added to.
// Drained samples (gossip sizes, peer scores) accumulate here, bounded, until the next drain.
import { boundaryDrops, totalOverKinds } from "../boundary/gossipOutbox.ts";
import type { BoundaryStats, WorkerStatsSnapshot } from "../boundary/messages.ts";
import { emptyPeerDefenceStats } from "../host/peerDefence.ts";
import { emptyPenaltyCounts } from "../host/peerScores.ts";
import type { NetworkMemoryStats, PeerScoreSummary } from "../network.ts";
import {
  COUNTER_NAMES,
  GOSSIP_STAT_KINDS,
  type GossipStatKind,
  LabelledNetworkCounters,
  type LabelledNetworkStats,
  MAX_SIZE_SAMPLES,
  type NetworkStats,
} from "../stats.ts";

/** Peer-score samples kept between two drains (the metrics sync drains every scrape or slot). */
export const MAX_SCORE_SAMPLES = 1024;

type Counts = { [key: string]: number | Counts };

/** a + b, cell by cell, for two tables of the same shape. */
function addCounts<T>(a: T, b: T): T {
  const out: Counts = {};
  for (const [key, value] of Object.entries(a as Counts)) {
    const other = (b as Counts)[key];
    out[key] =
      typeof value === "number" ? value + (typeof other === "number" ? other : 0) : addCounts(value, other as Counts);
  }
  return out as T;
}

const zeroStats = (): NetworkStats => Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as NetworkStats;
const zeroPeerScores = (): PeerScoreSummary => ({
  penalties: emptyPenaltyCounts(),
  disconnects: { gossip_score: 0, app_score: 0 },
  bannedNow: 0,
  refusedConnections: 0,
  evictions: 0,
  ...emptyPeerDefenceStats(),
});
const zeroBoundary = (): BoundaryStats => ({
  droppedCount: { block: 0, attestation: 0, aggregation: 0 },
  droppedBytes: { block: 0, attestation: 0, aggregation: 0 },
  verdictTimeouts: { block: 0, attestation: 0, aggregation: 0 },
  droppedHeld: { block: 0, attestation: 0, aggregation: 0 },
  refusedBeforeDecode: { block: 0, attestation: 0, aggregation: 0 },
  lateVerdicts: 0,
  batches: 0,
  items: 0,
  pendingItems: 0,
  pendingBytes: 0,
  holds: 0,
});
/** Gauges only: nothing to fold across a restart, and zero while no worker has reported. */
const zeroMemory = (): NetworkMemoryStats => ({
  responseBudget: { capacityBytes: 0, inFlightBytes: 0, inFlightRequests: 0, peakBytes: 0, refused: 0 },
  heap: { usedBytes: 0, totalBytes: 0, externalBytes: 0, limitBytes: 0 },
  gossipOutbound: { bufferedBytes: 0, maxPeerBufferedBytes: 0 },
});
type Totals = {
  stats: NetworkStats;
  labelled: LabelledNetworkStats;
  peerScores: PeerScoreSummary;
  boundary: BoundaryStats;
};
const zeroTotals = (): Totals => ({
  stats: zeroStats(),
  labelled: new LabelledNetworkCounters().snapshot(),
  peerScores: zeroPeerScores(),
  boundary: zeroBoundary(),
});

export class WorkerStatsCache {
  private base = zeroTotals();
  private latest = zeroTotals();
  private mesh = 0;
  private memory = zeroMemory();
  private sizes: Record<GossipStatKind, number[]> = { block: [], attestation: [], aggregation: [] };
  private scoreSamples: number[] = [];
  /** Gossip handlers on the driver thread that threw (counted as gossip_handler_errors). */
  handlerErrors = 0;

  update(snapshot: WorkerStatsSnapshot): void {
    this.latest = {
      stats: snapshot.stats,
      labelled: snapshot.labelled,
      peerScores: snapshot.peerScores,
      boundary: snapshot.boundary,
    };
    this.mesh = snapshot.meshPeerCount;
    this.memory = snapshot.memory;
    for (const kind of GOSSIP_STAT_KINDS) {
      const list = this.sizes[kind];
      for (const size of snapshot.gossipSizes[kind]) if (list.length < MAX_SIZE_SAMPLES) list.push(size);
    }
    for (const score of snapshot.scoreSamples) {
      if (this.scoreSamples.length < MAX_SCORE_SAMPLES) this.scoreSamples.push(score);
    }
  }

  /** The worker died: its last totals become the base of the next one's, its gauges go to 0. */
  fold(): void {
    this.base = {
      stats: addCounts(this.base.stats, this.latest.stats),
      labelled: addCounts(this.base.labelled, this.latest.labelled),
      peerScores: { ...addCounts(this.base.peerScores, this.latest.peerScores), bannedNow: 0, graylistedNow: 0 },
      boundary: { ...addCounts(this.base.boundary, this.latest.boundary), pendingItems: 0, pendingBytes: 0, holds: 0 },
    };
    this.latest = zeroTotals();
    this.mesh = 0;
    this.memory = zeroMemory();
  }

  stats(): NetworkStats {
    const s = addCounts(this.base.stats, this.latest.stats) as Record<string, number>;
    const boundary = this.boundary();
    const drops = boundaryDrops(boundary);
    s.gossip_boundary_overload_count = drops.full_count;
    s.gossip_boundary_overload_bytes = drops.full_bytes;
    s.gossip_verdict_timeouts = drops.verdict_timeout;
    s.gossip_boundary_held = drops.peer_held;
    s.gossip_refused_before_decode = totalOverKinds(boundary.refusedBeforeDecode);
    s.gossip_handler_errors = (s.gossip_handler_errors ?? 0) + this.handlerErrors;
    return s as NetworkStats;
  }

  labelled(): LabelledNetworkStats {
    return addCounts(this.base.labelled, this.latest.labelled);
  }

  peerScores(): PeerScoreSummary {
    const { bannedNow, graylistedNow } = this.latest.peerScores;
    return { ...addCounts(this.base.peerScores, this.latest.peerScores), bannedNow, graylistedNow };
  }

  boundary(): BoundaryStats {
    const { pendingItems, pendingBytes } = this.latest.boundary;
    return { ...addCounts(this.base.boundary, this.latest.boundary), pendingItems, pendingBytes };
  }

  meshPeerCount(): number {
    return this.mesh;
  }

  memoryStats(): NetworkMemoryStats {
    return this.memory;
  }

  drainGossipSizes(): Record<GossipStatKind, number[]> {
    const out = this.sizes;
    this.sizes = { block: [], attestation: [], aggregation: [] };
    return out;
  }

  drainScoreSamples(): number[] {
    const out = this.scoreSamples;
    this.scoreSamples = [];
    return out;
  }
}

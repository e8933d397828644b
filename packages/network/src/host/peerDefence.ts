// Acting on peer scores: once a second every connected peer's gossipsub score (which includes the
// application score through P5) is read; a peer below the graylist threshold, or whose application
// score fell to the disconnect threshold, is disconnected and banned for a cool-down. A graylisted
// peer's messages are already dropped unread by gossipsub; holding its connection gains nothing.
import { GRAYLIST_THRESHOLD } from "../gossip/scoring.ts";
import { DeferredPenalties, type DeferredPenaltyStats, emptyDeferredPenaltyStats } from "./deferredPenalties.ts";
import type { PeerAction, PeerScoreStore, ScoreDisconnectReason } from "./peerScores.ts";

/** How often scores are checked: well inside the 10 s the issue allows to graylist a flooder. */
export const PEER_DEFENCE_INTERVAL_MS = 1000;
/** Score samples kept between two metric scrapes (one per peer per check; older ones dropped). */
const MAX_SCORE_SAMPLES = 4096;

export type PeerDefenceDeps = {
  store: PeerScoreStore;
  peers: () => string[];
  /** The gossipsub score (P1..P7, P5 included); 0 when gossipsub has no record of the peer. */
  gossipScore: (peer: string) => number;
  disconnect: (peer: string) => Promise<void>;
  /** False: nobody is cut off (scores are still read and counted). */
  enabled?: boolean;
  /** `penalties`: the application-score penalties the peer took (PeerScoreStore.penaltySummary). */
  onDisconnect?: (peer: string, reason: ScoreDisconnectReason, score: number, penalties: string) => void;
  /** The clock of the deferred penalties (tests inject one). */
  now?: () => number;
};

export type PeerDefenceStats = {
  /** Connected peers below the graylist threshold at the last check. */
  graylistedNow: number;
  /** Peers seen crossing below the graylist threshold. */
  graylistedTotal: number;
  /** Penalties held to see whether the peer's connection was closing, by how each ended. */
  deferredPenalties: DeferredPenaltyStats;
};

/** A defence that has not run (a host not started, a worker not yet reporting). */
export const emptyPeerDefenceStats = (): PeerDefenceStats => ({
  graylistedNow: 0,
  graylistedTotal: 0,
  deferredPenalties: emptyDeferredPenaltyStats(),
});

export class PeerDefence {
  private readonly deps: PeerDefenceDeps;
  private readonly graylisted = new Set<string>();
  private graylistedTotal = 0;
  private samples: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly deferred: DeferredPenalties;

  constructor(deps: PeerDefenceDeps) {
    this.deps = deps;
    this.deferred = new DeferredPenalties(deps.now);
  }

  start(intervalMs = PEER_DEFENCE_INTERVAL_MS): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Penalises `peer` for a req/resp event; disconnects at once when it crosses the threshold. */
  penalise(peer: string, action: PeerAction, detail?: string): void {
    this.deps.store.apply(peer, action, detail);
    if (this.deps.store.shouldDisconnect(peer)) this.cut(peer, "app_score", this.deps.store.score(peer));
  }

  /**
   * Penalises `peer` for an exchange that ended early, unless its connection turns out to have been
   * closing (deferredPenalties.ts): charged on the first check after the grace period.
   */
  penaliseUnlessDisconnected(peer: string, action: PeerAction, detail?: string): void {
    if (!this.deferred.defer(peer, action, detail)) this.penalise(peer, action, detail);
  }

  /** The peer's connection closed: penalties still held for it are forgiven. */
  peerDisconnected(peer: string): void {
    this.deferred.forgive(peer);
  }

  /** One pass over the connected peers (the interval's work; tests call it directly). */
  check(): void {
    for (const due of this.deferred.takeDue()) this.penalise(due.peer, due.action, due.detail);
    const connected = this.deps.peers();
    const seen = new Set<string>();
    for (const peer of connected) {
      seen.add(peer);
      const score = this.deps.gossipScore(peer);
      if (this.samples.length < MAX_SCORE_SAMPLES) this.samples.push(score);
      if (score < GRAYLIST_THRESHOLD) {
        if (!this.graylisted.has(peer)) {
          this.graylisted.add(peer);
          this.graylistedTotal++;
        }
        this.cut(peer, "gossip_score", score);
      } else {
        this.graylisted.delete(peer);
        if (this.deps.store.shouldDisconnect(peer)) this.cut(peer, "app_score", this.deps.store.score(peer));
      }
    }
    for (const peer of this.graylisted) if (!seen.has(peer)) this.graylisted.delete(peer);
  }

  stats(): PeerDefenceStats {
    return {
      graylistedNow: this.graylisted.size,
      graylistedTotal: this.graylistedTotal,
      deferredPenalties: this.deferred.stats(),
    };
  }

  /** Gossip scores of connected peers sampled since the last call (for the score histogram). */
  drainScoreSamples(): number[] {
    const out = this.samples;
    this.samples = [];
    return out;
  }

  private cut(peer: string, reason: ScoreDisconnectReason, score: number): void {
    if (this.deps.enabled === false) return;
    // Counted once per ban; a banned peer still listed as connected is hung up on again.
    if (!this.deps.store.isBanned(peer)) {
      this.deps.store.ban(peer, reason);
      this.deps.onDisconnect?.(peer, reason, score, this.deps.store.penaltySummary(peer));
    }
    this.deps.disconnect(peer).catch(() => {});
  }
}

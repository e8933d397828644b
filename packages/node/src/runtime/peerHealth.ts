// The block fetcher's view of each peer's health: a penalty that grows on failed requests, halves
// on good ones and decays with a half-life, plus the requests in flight to the peer. Peers are
// chosen by weighted random choice, so a failing peer is tried less but never never.

/** Penalty ceiling: a failing peer's weight never falls below 1/(1+MAX)^2 of a healthy one's. */
const MAX_PEER_PENALTY = 10;

interface PeerHealth {
  penalty: number;
  penaltyAt: number;
  inFlight: number;
}

export class PeerHealthTable {
  private readonly peers = new Map<string, PeerHealth>();
  private readonly halfLifeMs: number;
  private readonly random: () => number;

  constructor(halfLifeMs: number, random: () => number) {
    this.halfLifeMs = halfLifeMs;
    this.random = random;
  }

  /** The peer's decayed penalty now (0 for a peer never penalized). */
  penaltyOf(peerId: string, now: number): number {
    const health = this.peers.get(peerId);
    return health === undefined ? 0 : this.decayedPenalty(health, now);
  }

  requestStarted(peerId: string, now: number): void {
    this.health(peerId, now).inFlight++;
  }

  /** A request to the peer ended: `penalize` (error, timeout), `reward` (blocks came) or `none`. */
  requestFinished(peerId: string, verdict: "penalize" | "reward" | "none", now: number): void {
    const health = this.peers.get(peerId);
    if (health === undefined) return;
    health.inFlight = Math.max(0, health.inFlight - 1);
    if (verdict === "penalize") {
      health.penalty = Math.min(MAX_PEER_PENALTY, this.decayedPenalty(health, now) + 1);
      health.penaltyAt = now;
    } else if (verdict === "reward") {
      health.penalty = this.decayedPenalty(health, now) / 2;
      health.penaltyAt = now;
    }
  }

  /**
   * Forget health of peers that left and have nothing outstanding: the map stays bounded by the
   * peer set plus requests in flight.
   */
  forgetGone(connected: readonly string[]): void {
    if (this.peers.size <= connected.length) return;
    const present = new Set(connected);
    for (const [peerId, health] of this.peers) {
      if (!present.has(peerId) && health.inFlight === 0) this.peers.delete(peerId);
    }
  }

  /**
   * Weighted random choice: weight 1 / ((1 + penalty)^2 * (1 + requests in flight to the peer)).
   * A failing peer is tried less, but never never (the penalty is capped and decays), and load
   * spreads across healthy peers.
   */
  choose(peers: readonly string[], now: number): string {
    const weights = peers.map((peerId) => {
      const health = this.peers.get(peerId);
      if (health === undefined) return 1;
      const penalty = this.decayedPenalty(health, now);
      return 1 / ((1 + penalty) ** 2 * (1 + health.inFlight));
    });
    const total = weights.reduce((sum, w) => sum + w, 0);
    let r = this.random() * total;
    for (let i = 0; i < peers.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return peers[i] as string;
    }
    return peers[peers.length - 1] as string;
  }

  clear(): void {
    this.peers.clear();
  }

  private health(peerId: string, now: number): PeerHealth {
    let health = this.peers.get(peerId);
    if (health === undefined) {
      health = { penalty: 0, penaltyAt: now, inFlight: 0 };
      this.peers.set(peerId, health);
    }
    return health;
  }

  private decayedPenalty(health: PeerHealth, now: number): number {
    if (health.penalty === 0) return 0;
    const elapsed = Math.max(0, now - health.penaltyAt);
    return health.penalty * 2 ** (-elapsed / this.halfLifeMs);
  }
}

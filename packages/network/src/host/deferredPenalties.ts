// Req/resp penalties that wait to see whether the peer's connection is going away. When a
// connection closes, libp2p ends its open streams first and reports the peer gone a moment later,
// so an exchange cut short by the closing connection looks, at first, like a peer that sent an
// empty Status answer or half a request. Such a penalty is held for DEFERRED_PENALTY_GRACE_MS: if
// the peer disconnects meanwhile it is forgiven (an honest peer is not banned for a dropped link),
// otherwise it is charged. The disconnect can also come first (the order varies under load), so a
// penalty for a peer that disconnected within the last grace period is forgiven on arrival. Pure
// logic with the clock injected; PeerDefence drives it.
import type { PeerAction } from "./peerScores.ts";

/**
 * How long a penalty waits for the peer's disconnection. The disconnect event follows the streams'
 * end within milliseconds on an idle machine (connectionDrop.test.ts); 2 s leaves room for a
 * loaded one, and a hostile peer's charge is only delayed, never dropped.
 */
export const DEFERRED_PENALTY_GRACE_MS = 2_000;
/**
 * Penalties held at once. An entry is a peer id, an action and a detail cut to 160 characters
 * (under 0.5 KiB), so the cap bounds the holding at about 0.5 MiB. When full, a new penalty is
 * charged at once instead of waiting: a flood of early ends can only make us stricter.
 */
export const MAX_DEFERRED_PENALTIES = 1024;

export type DeferredPenalty = { peer: string; action: PeerAction; detail?: string; dueMs: number };

export const DEFERRED_PENALTY_OUTCOMES = ["forgiven", "charged", "not_deferred"] as const;
export type DeferredPenaltyOutcome = (typeof DEFERRED_PENALTY_OUTCOMES)[number];
/**
 * forgiven: the peer disconnected within the grace period; charged: it did not; not_deferred:
 * charged at once because the holding was full.
 */
export type DeferredPenaltyStats = Record<DeferredPenaltyOutcome, number>;

export const emptyDeferredPenaltyStats = (): DeferredPenaltyStats => ({ forgiven: 0, charged: 0, not_deferred: 0 });

export class DeferredPenalties {
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly pending: DeferredPenalty[] = [];
  /** When each peer last disconnected, kept for one grace period (insertion order = oldest first). */
  private readonly recentDisconnects = new Map<string, number>();
  private readonly counts = emptyDeferredPenaltyStats();

  constructor(now: () => number = Date.now, graceMs = DEFERRED_PENALTY_GRACE_MS) {
    this.now = now;
    this.graceMs = graceMs;
  }

  /** Holds the penalty; false when the holding is full and the caller must charge it now. */
  defer(peer: string, action: PeerAction, detail?: string): boolean {
    const disconnectedAt = this.recentDisconnects.get(peer);
    if (disconnectedAt !== undefined && this.now() - disconnectedAt <= this.graceMs) {
      this.counts.forgiven++;
      return true;
    }
    if (this.pending.length >= MAX_DEFERRED_PENALTIES) {
      this.counts.not_deferred++;
      return false;
    }
    this.pending.push({ peer, action, detail, dueMs: this.now() + this.graceMs });
    return true;
  }

  /** The peer disconnected: every penalty held for it is dropped, and any arriving within the grace. */
  forgive(peer: string): void {
    this.recentDisconnects.delete(peer);
    this.recentDisconnects.set(peer, this.now());
    // Bounded like the holding (a peer id and a number each): the oldest is forgotten first.
    if (this.recentDisconnects.size > MAX_DEFERRED_PENALTIES) {
      this.recentDisconnects.delete(this.recentDisconnects.keys().next().value as string);
    }
    let kept = 0;
    for (const p of this.pending) {
      if (p.peer === peer) this.counts.forgiven++;
      else this.pending[kept++] = p;
    }
    this.pending.length = kept;
  }

  /** Removes and returns the penalties whose grace has run out (the caller charges them). */
  takeDue(): DeferredPenalty[] {
    const now = this.now();
    for (const [peer, at] of this.recentDisconnects) {
      if (now - at <= this.graceMs) break;
      this.recentDisconnects.delete(peer);
    }
    let dueCount = 0;
    // Held in arrival order with one grace period, so the due ones are a prefix.
    while (dueCount < this.pending.length && (this.pending[dueCount] as DeferredPenalty).dueMs <= now) dueCount++;
    this.counts.charged += dueCount;
    return this.pending.splice(0, dueCount);
  }

  get size(): number {
    return this.pending.length;
  }

  stats(): DeferredPenaltyStats {
    return { ...this.counts };
  }
}

// When a peer's lane in an attestation queue overflows, what that peer sends next of the same kind
// would only push out what it sent before (the lane drops its oldest). Carrying those messages
// across from the network worker, cloning them onto the driver thread and queueing them there is
// then pure cost: under a flood of valid signatures it was most of what the driver thread
// allocated, and its collections were the clock's late ticks (docs/performance.md). So the node
// asks the network to hold that peer's messages of that kind for a moment (INetwork.holdGossip).
// This decides when to ask: at most once per hold, so an overflowing lane costs one message per
// LANE_HOLD_MS, not one per dropped vote. Pure logic: the sender and the clock are injected.

/**
 * How long a peer's messages of one kind are held after its lane overflowed. The lane (up to 1024
 * votes) drains at the verifier's pace, a few hundred a second under a flood, so after 250 ms it
 * still holds most of what it held; new votes are let in four times a second, newest first, which
 * keeps the lane fresh without carrying the flood across.
 */
export const LANE_HOLD_MS = 250;
/**
 * Holds remembered at once (kind, peer): a queue has 64 peer lanes per kind, so 256 is every lane
 * of both kinds twice over; past it the oldest entry is forgotten (that peer may be held again a
 * little early). A key is a kind and a peer id (at most ~70 bytes): the map stays under ~32 KiB.
 */
export const MAX_LANE_HOLDS = 256;

export type HeldKind = "attestation" | "aggregation";

export interface LaneHoldsOptions {
  send: (kind: HeldKind, peer: string, ms: number) => void;
  holdMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class LaneHolds {
  /** Holds asked for, and overflows that fell inside a hold already asked for. */
  sent = 0;
  suppressed = 0;
  private readonly send: LaneHoldsOptions["send"];
  private readonly holdMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** (kind, peer) -> when the hold last asked for ends; insertion order is ask order. */
  private readonly until = new Map<string, number>();

  constructor(options: LaneHoldsOptions) {
    this.send = options.send;
    this.holdMs = options.holdMs ?? LANE_HOLD_MS;
    this.maxEntries = options.maxEntries ?? MAX_LANE_HOLDS;
    this.now = options.now ?? Date.now;
  }

  /** A vote from `peer` was dropped because its lane was full. Peerless (local) votes are never held. */
  overflowed(kind: HeldKind, peer: string | null): void {
    if (peer === null) return;
    const key = `${kind}/${peer}`;
    const now = this.now();
    const until = this.until.get(key);
    if (until !== undefined && until > now) {
      this.suppressed++;
      return;
    }
    this.until.delete(key);
    if (this.until.size >= this.maxEntries) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.set(key, now + this.holdMs);
    this.sent++;
    this.send(kind, peer, this.holdMs);
  }

  /** Entries remembered (bounded by maxEntries). */
  get size(): number {
    return this.until.size;
  }
}

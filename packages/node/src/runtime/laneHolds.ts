// When a peer's lane in an attestation queue overflows, what that peer sends next of the same kind
// would only push out what it sent before (the lane drops its oldest). Carrying those messages
// across from the network worker, cloning them onto the driver thread and queueing them there is
// then pure cost: under a flood of valid signatures it was most of what the driver thread
// allocated, and its collections were the clock's late ticks (docs/performance.md). So the node
// asks the network to hold that peer's messages of that kind for a moment (INetwork.holdGossip).
// This decides when to ask: at most once per hold, so an overflowing lane costs one message per
// LANE_HOLD_MS, not one per dropped vote. Pure logic: the sender and the clock are injected.
import { HoldTable, holdKey } from "@metronome/network";

/**
 * How long a peer's messages of one kind are held after its lane overflowed. The lane (up to 1024
 * votes) drains at the verifier's pace, a few hundred a second under a flood, so after 250 ms it
 * still holds most of what it held; new votes are let in four times a second, newest first, which
 * keeps the lane fresh without carrying the flood across.
 */
export const LANE_HOLD_MS = 250;
/**
 * Holds remembered at once (kind, peer): a queue has 64 peer lanes per kind, so 256 is every lane
 * of both kinds twice over; past it the one that ends soonest is forgotten (that peer may be held
 * again a little early). A key is a kind and a peer id (at most ~70 bytes): under ~32 KiB.
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
  private readonly now: () => number;
  /** The holds asked for, and when each ends. */
  private readonly asked: HoldTable;

  constructor(options: LaneHoldsOptions) {
    this.send = options.send;
    this.holdMs = options.holdMs ?? LANE_HOLD_MS;
    this.asked = new HoldTable(options.maxEntries ?? MAX_LANE_HOLDS);
    this.now = options.now ?? Date.now;
  }

  /** A vote from `peer` was dropped because its lane was full. Peerless (local) votes are never held. */
  overflowed(kind: HeldKind, peer: string | null): void {
    if (peer === null) return;
    const key = holdKey(kind, peer);
    const now = this.now();
    if (this.asked.isHeld(key, now)) {
      this.suppressed++;
      return;
    }
    this.asked.hold(key, now + this.holdMs, now);
    this.sent++;
    this.send(kind, peer, this.holdMs);
  }

  /** Entries remembered (bounded by maxEntries). */
  get size(): number {
    return this.asked.size;
  }
}

// Holds on a peer's gossip of one kind, and when each ends: the worker's list of what to ignore
// (GossipOutbox.hold) and the node's list of what it has already asked for (LaneHolds) are the same
// table. Bounded: at capacity, ended holds are forgotten first, then the one that ends soonest.
// Pure logic: callers pass the time.
import type { GossipKind } from "../gossip/topics.ts";

/** The table's key for a peer's messages of one kind. */
export const holdKey = (kind: GossipKind, peer: string): string => `${kind}/${peer}`;

export class HoldTable {
  readonly capacity: number;
  /** Key -> when its hold ends; insertion order is not end order. */
  private readonly until = new Map<string, number>();

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`hold capacity ${capacity}`);
    this.capacity = capacity;
  }

  /** Whether `key` is held at `now`; a hold that has ended is forgotten. */
  isHeld(key: string, now: number): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(key);
    return false;
  }

  /** Holds `key` until `until`, replacing any earlier hold on it. */
  hold(key: string, until: number, now: number): void {
    this.until.delete(key);
    if (this.until.size >= this.capacity) this.makeRoom(now);
    this.until.set(key, until);
  }

  /** Holds in force at `now`. */
  activeCount(now: number): number {
    let n = 0;
    for (const until of this.until.values()) if (until > now) n++;
    return n;
  }

  /** Holds remembered, ended ones not yet forgotten included (at most `capacity`). */
  get size(): number {
    return this.until.size;
  }

  /** Makes room for one more: every ended hold goes, else the one that ends soonest. */
  private makeRoom(now: number): void {
    let soonest: string | null = null;
    let soonestUntil = Number.POSITIVE_INFINITY;
    for (const [key, until] of this.until) {
      if (until <= now) this.until.delete(key);
      else if (until < soonestUntil) {
        soonest = key;
        soonestUntil = until;
      }
    }
    if (this.until.size >= this.capacity && soonest !== null) this.until.delete(soonest);
  }
}

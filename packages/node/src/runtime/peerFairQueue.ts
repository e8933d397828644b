// A bounded queue shared fairly between the peers that feed it. Under a gossip flood one peer
// can send a hundred times what the honest peers send together; in a single queue (FIFO or LIFO)
// their votes sink under the flood and the node stops hearing its real network. Here every peer
// has its own newest-first lane, service goes round-robin over the lanes, and when the queue is
// full the peer holding the most items loses its oldest one: the flooder pays for the flood.
import { assertCapacity, BoundedQueue, type QueueDropCounts, type QueueDropReason } from "./boundedQueue.ts";

export interface PeerFairQueueOptions<T> {
  /** Cap on items across all peers. */
  capacity: number;
  /** Cap on one peer's lane (at most `capacity`). */
  perPeerCapacity: number;
  /** Cap on lanes; peers beyond it share one overflow lane. */
  maxPeers: number;
  onDrop?: (item: T, reason: QueueDropReason) => void;
}

export interface PeerFairQueueStats {
  size: number;
  capacity: number;
  peers: number;
  maxSizeSeen: number;
  pushed: number;
  popped: number;
  dropped: QueueDropCounts;
}

/** Lane for items with no peer (our own API or validator submissions). */
export const LOCAL_LANE = "local";
/** Lane shared by peers that arrive when `maxPeers` lanes are already open. */
export const OVERFLOW_LANE = "overflow";

export class PeerFairQueue<T> {
  readonly capacity: number;
  readonly perPeerCapacity: number;
  readonly maxPeers: number;
  readonly dropped: QueueDropCounts = { queue_full: 0 };
  pushed = 0;
  popped = 0;
  maxSizeSeen = 0;
  private readonly lanes = new Map<string, BoundedQueue<T>>();
  private readonly onDrop: ((item: T, reason: QueueDropReason) => void) | undefined;
  private total = 0;
  /** Rotates the lane served first, so no peer is always first in line. */
  private cursor = 0;

  constructor(options: PeerFairQueueOptions<T>) {
    assertCapacity("capacity", options.capacity);
    assertCapacity("perPeerCapacity", options.perPeerCapacity);
    assertCapacity("maxPeers", options.maxPeers);
    this.capacity = options.capacity;
    this.perPeerCapacity = Math.min(options.perPeerCapacity, options.capacity);
    this.maxPeers = options.maxPeers;
    this.onDrop = options.onDrop;
  }

  get size(): number {
    return this.total;
  }

  get peerCount(): number {
    return this.lanes.size;
  }

  /** Always accepts the newcomer; room is made by the sender's own lane or the fullest lane. */
  push(peer: string | null, item: T): void {
    const lane = this.laneFor(peer);
    if (lane.isFull) {
      // The lane evicts its own oldest: this peer alone pays for its excess.
      lane.push(item);
    } else {
      if (this.total >= this.capacity) this.evictFromFullestLane();
      lane.push(item);
      this.total++;
    }
    this.pushed++;
    if (this.total > this.maxSizeSeen) this.maxSizeSeen = this.total;
  }

  /** Up to `max` items, one per lane per round (newest first within a lane). */
  popBatch(max: number): T[] {
    const want = Math.max(0, Math.floor(max));
    const out: T[] = [];
    if (want === 0 || this.total === 0) return out;
    const keys = [...this.lanes.keys()];
    const start = this.cursor++ % keys.length;
    while (out.length < want && this.total > 0) {
      for (let i = 0; i < keys.length && out.length < want; i++) {
        const key = keys[(start + i) % keys.length] as string;
        const lane = this.lanes.get(key);
        if (lane === undefined) continue;
        // Lanes in the map are never empty: an emptied lane is removed at once.
        out.push(lane.pop() as T);
        this.total--;
        if (lane.size === 0) this.lanes.delete(key);
      }
    }
    this.popped += out.length;
    return out;
  }

  /** Removes everything (not counted as drops); returns how many items were removed. */
  clear(): number {
    const removed = this.total;
    this.lanes.clear();
    this.total = 0;
    return removed;
  }

  stats(): PeerFairQueueStats {
    return {
      size: this.total,
      capacity: this.capacity,
      peers: this.lanes.size,
      maxSizeSeen: this.maxSizeSeen,
      pushed: this.pushed,
      popped: this.popped,
      dropped: { ...this.dropped },
    };
  }

  private laneFor(peer: string | null): BoundedQueue<T> {
    let key = peer ?? LOCAL_LANE;
    let lane = this.lanes.get(key);
    if (lane !== undefined) return lane;
    if (this.lanes.size >= this.maxPeers) {
      key = OVERFLOW_LANE;
      lane = this.lanes.get(key);
      if (lane !== undefined) return lane;
    }
    lane = new BoundedQueue<T>({
      capacity: this.perPeerCapacity,
      policy: "lifo",
      onDrop: (dropped, reason) => this.recordDrop(dropped, reason),
    });
    this.lanes.set(key, lane);
    return lane;
  }

  /** O(lanes): lanes are capped by maxPeers. */
  private evictFromFullestLane(): void {
    let fullestKey: string | null = null;
    let fullest: BoundedQueue<T> | null = null;
    for (const [key, lane] of this.lanes) {
      if (fullest === null || lane.size > fullest.size) {
        fullest = lane;
        fullestKey = key;
      }
    }
    if (fullest === null || fullestKey === null) return;
    const victim = fullest.popOldest();
    if (fullest.size === 0) this.lanes.delete(fullestKey);
    if (victim === undefined) return;
    this.total--;
    this.recordDrop(victim.item, "queue_full");
  }

  private recordDrop(item: T, reason: QueueDropReason): void {
    this.dropped[reason]++;
    this.onDrop?.(item, reason);
  }
}

// Bounded work queues for the gossip receive path. Under a flood the queue, not the heap, absorbs
// the overload: every queue has a fixed capacity and a drop policy, and every drop is counted so
// operators can see the pressure (the slot driver only ever takes one bounded batch per pass).

/**
 * What happens when a push meets a full queue, and which end `pop` serves.
 * - "drop_oldest": FIFO; the head (oldest) is evicted to make room for the newcomer.
 * - "drop_newest": FIFO; the newcomer is refused.
 * - "lifo": newest-first service (attestations: the freshest votes are the most useful); when full
 *   the OLDEST is evicted, since it is also the one that would be served last.
 */
export type QueuePolicy = "drop_oldest" | "drop_newest" | "lifo";

export const QUEUE_POLICIES: readonly QueuePolicy[] = ["drop_oldest", "drop_newest", "lifo"];

/** Label values for dropped-item counters (stable: they become Prometheus label values). */
export type QueueDropReason = "queue_full";

export type QueueDropCounts = Record<QueueDropReason, number>;

export interface BoundedQueueOptions<T> {
  capacity: number;
  policy: QueuePolicy;
  /** Observes every item the queue discards (e.g. to release what it holds). */
  onDrop?: (item: T, reason: QueueDropReason) => void;
}

export interface BoundedQueueStats {
  policy: QueuePolicy;
  size: number;
  capacity: number;
  maxSizeSeen: number;
  pushed: number;
  popped: number;
  dropped: QueueDropCounts;
}

export function assertCapacity(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`);
}

/** Fixed-capacity ring buffer; push, pop and eviction are all O(1). */
export class BoundedQueue<T> {
  readonly capacity: number;
  readonly policy: QueuePolicy;
  readonly dropped: QueueDropCounts = { queue_full: 0 };
  pushed = 0;
  popped = 0;
  maxSizeSeen = 0;
  private readonly slots: (T | undefined)[];
  private readonly onDrop: ((item: T, reason: QueueDropReason) => void) | undefined;
  private head = 0;
  private length = 0;

  constructor(options: BoundedQueueOptions<T>) {
    assertCapacity("capacity", options.capacity);
    if (!QUEUE_POLICIES.includes(options.policy)) throw new RangeError(`unknown queue policy: ${options.policy}`);
    this.capacity = options.capacity;
    this.policy = options.policy;
    this.onDrop = options.onDrop;
    this.slots = new Array<T | undefined>(options.capacity).fill(undefined);
  }

  get size(): number {
    return this.length;
  }

  get isFull(): boolean {
    return this.length === this.capacity;
  }

  /** Enqueues `item`; returns false only when the item itself was refused ("drop_newest"). */
  push(item: T): boolean {
    if (this.length === this.capacity) {
      if (this.policy === "drop_newest") {
        this.recordDrop(item);
        return false;
      }
      const evicted = this.takeHead();
      if (evicted !== undefined) this.recordDrop(evicted.item);
    }
    this.slots[(this.head + this.length) % this.capacity] = item;
    this.length++;
    this.pushed++;
    if (this.length > this.maxSizeSeen) this.maxSizeSeen = this.length;
    return true;
  }

  /** Next item in service order: the oldest for FIFO policies, the newest for "lifo". */
  pop(): T | undefined {
    const taken = this.policy === "lifo" ? this.takeTail() : this.takeHead();
    if (taken === undefined) return undefined;
    this.popped++;
    return taken.item;
  }

  /** Removes the oldest item whatever the policy (a caller-side eviction; not counted as popped). */
  popOldest(): { item: T } | undefined {
    return this.takeHead();
  }

  /** Item `pop` would return next, without removing it. */
  peek(): T | undefined {
    if (this.length === 0) return undefined;
    const index = this.policy === "lifo" ? this.head + this.length - 1 : this.head;
    return this.slots[index % this.capacity];
  }

  /** Up to `max` items in service order. */
  popBatch(max: number): T[] {
    const count = Math.max(0, Math.min(Math.floor(max), this.length));
    const batch: T[] = new Array<T>(count);
    for (let i = 0; i < count; i++) batch[i] = this.pop() as T;
    return batch;
  }

  /** Removes everything (not counted as drops); returns how many items were removed. */
  clear(): number {
    const removed = this.length;
    this.slots.fill(undefined);
    this.head = 0;
    this.length = 0;
    return removed;
  }

  /** Items in service order, without removing them. */
  toArray(): T[] {
    const out: T[] = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) {
      const offset = this.policy === "lifo" ? this.length - 1 - i : i;
      out[i] = this.slots[(this.head + offset) % this.capacity] as T;
    }
    return out;
  }

  stats(): BoundedQueueStats {
    return {
      policy: this.policy,
      size: this.length,
      capacity: this.capacity,
      maxSizeSeen: this.maxSizeSeen,
      pushed: this.pushed,
      popped: this.popped,
      dropped: { ...this.dropped },
    };
  }

  // Wrapped so an item that is itself `undefined` is still distinguishable from "empty".
  private takeHead(): { item: T } | undefined {
    if (this.length === 0) return undefined;
    const item = this.slots[this.head] as T;
    this.slots[this.head] = undefined; // release the reference for GC
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    return { item };
  }

  private takeTail(): { item: T } | undefined {
    if (this.length === 0) return undefined;
    const index = (this.head + this.length - 1) % this.capacity;
    const item = this.slots[index] as T;
    this.slots[index] = undefined;
    this.length--;
    return { item };
  }

  private recordDrop(item: T): void {
    this.dropped.queue_full++;
    this.onDrop?.(item, "queue_full");
  }
}

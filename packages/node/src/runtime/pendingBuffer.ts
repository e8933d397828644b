// The pending-attestation buffer of PROTOCOL.md section 6 (leanSpec's `_pending_attestations`):
// attestations that failed validation only because a referenced block is unknown, or because they
// are slightly in the future, wait here and are replayed after every successful block import.
// The node holds one buffer per kind; counters mirror lean_pending_attestations_*{kind}.
import { MAX_PENDING_ATTESTATIONS } from "@metronome/chain";
import { BoundedQueue } from "./boundedQueue.ts";

export type PendingKind = "single" | "aggregated";

/** Why an item was buffered (label of lean_pending_attestations_buffered_total). */
export type PendingBufferReason = "unknown_block" | "future_slot";

/** What `tryImport` answers for one replayed item. */
export type ReplayVerdict = "accepted" | "rebuffer" | "drop";

/**
 * Replay outcome labels (lean_pending_attestations_replay_total): "accepted" went to the store,
 * "buffered" went back into the buffer, "dropped" was rejected (or tryImport threw), "expired" was
 * older than the age limit and dropped without being tried.
 */
export type ReplayOutcome = "accepted" | "buffered" | "dropped" | "expired";

export type ReplayCounts = Record<ReplayOutcome, number>;

export interface PendingBufferOptions {
  kind: PendingKind;
  /** Entries per kind; default MAX_PENDING_ATTESTATIONS (PROTOCOL.md section 6). */
  capacity?: number;
  /**
   * Optional age limit: on replay, an item buffered more than this many slots ago (by
   * `currentSlot`) is dropped as "expired" without calling tryImport. Unset: no age limit, items
   * leave only by replay verdict or FIFO eviction.
   */
  maxAgeSlots?: number;
  /** Required with `maxAgeSlots`: the node's current slot. */
  currentSlot?: () => number;
}

export interface PendingBufferStats {
  kind: PendingKind;
  size: number;
  capacity: number;
  maxSizeSeen: number;
  evicted: number;
  buffered: Record<PendingBufferReason, number>;
  replayOutcomes: ReplayCounts;
  replays: number;
  replayErrors: number;
  reentrantReplays: number;
}

interface PendingEntry<T> {
  item: T;
  addedSlot: number;
}

/** A nested replay (tryImport importing a block) is folded into at most this many extra passes. */
const MAX_REPLAY_PASSES = 4;

function emptyReplayCounts(): ReplayCounts {
  return { accepted: 0, buffered: 0, dropped: 0, expired: 0 };
}

export class PendingAttestationBuffer<T> {
  readonly kind: PendingKind;
  readonly capacity: number;
  readonly buffered: Record<PendingBufferReason, number> = { unknown_block: 0, future_slot: 0 };
  readonly replayOutcomes: ReplayCounts = emptyReplayCounts();
  /** Entries pushed out by the FIFO cap (lean_pending_attestations_evicted_total). */
  evicted = 0;
  replays = 0;
  /** tryImport calls that threw; each is also counted as "dropped". */
  replayErrors = 0;
  /** replay() calls made from inside a running replay; each is served by an extra pass. */
  reentrantReplays = 0;
  private readonly queue: BoundedQueue<PendingEntry<T>>;
  private readonly maxAgeSlots: number | undefined;
  private readonly currentSlot: (() => number) | undefined;
  private replaying = false;
  private rerun: ((item: T) => ReplayVerdict) | null = null;

  constructor(options: PendingBufferOptions) {
    const capacity = options.capacity ?? MAX_PENDING_ATTESTATIONS;
    if (options.maxAgeSlots !== undefined) {
      if (!(options.maxAgeSlots >= 0)) throw new RangeError(`maxAgeSlots must be >= 0: ${options.maxAgeSlots}`);
      if (options.currentSlot === undefined) throw new RangeError("maxAgeSlots requires currentSlot");
    }
    this.kind = options.kind;
    this.capacity = capacity;
    this.maxAgeSlots = options.maxAgeSlots;
    this.currentSlot = options.currentSlot;
    this.queue = new BoundedQueue<PendingEntry<T>>({
      capacity,
      policy: "drop_oldest",
      onDrop: () => {
        this.evicted++;
      },
    });
  }

  get size(): number {
    return this.queue.size;
  }

  get maxSizeSeen(): number {
    return this.queue.maxSizeSeen;
  }

  /** Buffers `item` at the tail; when full the oldest entry is evicted (counted). */
  add(item: T, reason: PendingBufferReason): void {
    this.buffered[reason]++;
    this.queue.push({ item, addedSlot: this.slotNow() });
  }

  /**
   * Drains a snapshot of the buffer in FIFO order through `tryImport`. Entries answering
   * "rebuffer" go back in their original order, ahead of anything added during the replay (which
   * is kept too); if both together overflow the cap, the oldest are evicted as usual.
   */
  replay(tryImport: (item: T) => ReplayVerdict): ReplayCounts {
    const result = emptyReplayCounts();
    if (this.replaying) {
      this.reentrantReplays++;
      this.rerun = tryImport;
      return result;
    }
    this.replaying = true;
    try {
      let next: ((item: T) => ReplayVerdict) | null = tryImport;
      for (let pass = 0; next !== null && pass < MAX_REPLAY_PASSES; pass++) {
        this.rerun = null;
        this.replayPass(next, result);
        next = this.rerun;
      }
    } finally {
      this.replaying = false;
      this.rerun = null;
    }
    return result;
  }

  /** Buffered items, oldest first. */
  toArray(): T[] {
    return this.queue.toArray().map((e) => e.item);
  }

  /** Empties the buffer (not counted as evictions); returns how many items were removed. */
  clear(): number {
    return this.queue.clear();
  }

  stats(): PendingBufferStats {
    return {
      kind: this.kind,
      size: this.queue.size,
      capacity: this.capacity,
      maxSizeSeen: this.queue.maxSizeSeen,
      evicted: this.evicted,
      buffered: { ...this.buffered },
      replayOutcomes: { ...this.replayOutcomes },
      replays: this.replays,
      replayErrors: this.replayErrors,
      reentrantReplays: this.reentrantReplays,
    };
  }

  private replayPass(tryImport: (item: T) => ReplayVerdict, result: ReplayCounts): void {
    this.replays++;
    const snapshot = this.queue.popBatch(this.queue.size);
    const keep: PendingEntry<T>[] = [];
    const slot = this.maxAgeSlots === undefined ? 0 : this.slotNow();
    for (const entry of snapshot) {
      const outcome = this.replayOne(entry, tryImport, slot);
      if (outcome === "buffered") keep.push(entry);
      result[outcome]++;
      this.replayOutcomes[outcome]++;
    }
    // Items added while tryImport ran are younger than every snapshot entry: they go after.
    const addedDuring = this.queue.popBatch(this.queue.size);
    for (const entry of keep) this.queue.push(entry);
    for (const entry of addedDuring) this.queue.push(entry);
  }

  private replayOne(entry: PendingEntry<T>, tryImport: (item: T) => ReplayVerdict, slot: number): ReplayOutcome {
    if (this.maxAgeSlots !== undefined && slot - entry.addedSlot > this.maxAgeSlots) return "expired";
    let verdict: ReplayVerdict;
    try {
      verdict = tryImport(entry.item);
    } catch {
      this.replayErrors++;
      return "dropped";
    }
    if (verdict === "accepted") return "accepted";
    if (verdict === "rebuffer") return "buffered";
    return "dropped";
  }

  private slotNow(): number {
    return this.currentSlot === undefined ? 0 : this.currentSlot();
  }
}

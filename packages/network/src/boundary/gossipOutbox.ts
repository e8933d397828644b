// The worker side of the gossip boundary: decoded, pre-checked messages wait here for the node's
// verdict. They leave in batches (one postMessage per batch, flushed once per event-loop turn or
// as soon as a batch is full), and the channel holds at most a fixed number of unanswered items and
// bytes per topic kind: past either cap a message is IGNOREd at once and counted by reason. A
// verdict not back within the deadline is IGNOREd and counted; if it comes later it is dropped.
// The node can also hold a peer's messages of one kind for a short time (`hold`): its lane in the
// node's queue is overflowing, so what the peer sends next would only push out what it sent
// before. Held messages are IGNOREd here, before they are cloned across and handled on the driver
// thread, and counted.
// Pure logic: the port, the scheduler and the clock are injected.
import type { GossipVerdict } from "../gossip/router.ts";
import type { GossipKind } from "../gossip/topics.ts";
import { HoldTable, holdKey } from "./holdTable.ts";
import type { BoundaryStats, GossipWorkItem } from "./messages.ts";
import { packGossipValue } from "./packVote.ts";

export type ChannelLimits = { items: number; bytes: number };

/**
 * Unanswered items per kind. They sit in the node's ingress queues (blocks 1024, aggregates 1024,
 * attestations 4096) or in verification, so each cap is above its queue's: the node's per-peer
 * drop policy decides what a flood loses, this is the safety net behind it. Bytes: a vote is
 * ~250 bytes of SSZ, so 16 MiB never binds for votes before the count does; blocks can be large
 * and get 64 MiB (the ingress queue would hold 1024 of them).
 */
export const DEFAULT_CHANNEL_LIMITS: Readonly<Record<GossipKind, ChannelLimits>> = {
  block: { items: 1_024, bytes: 64 * 1024 * 1024 },
  aggregation: { items: 2_048, bytes: 16 * 1024 * 1024 },
  attestation: { items: 8_192, bytes: 16 * 1024 * 1024 },
};
/** Items per postMessage: ~1 ms of cloning and enqueueing on the driver thread at most. */
export const MAX_BATCH_ITEMS = 256;
/** Bytes per postMessage: a batch of blocks is posted as soon as it holds this much. */
export const MAX_BATCH_BYTES = 1024 * 1024;
/**
 * A message whose verdict is not back in 3 s is IGNOREd. Gossipsub keeps a message for IWANT only
 * for its mcache window (6 heartbeats x 700 ms = 4.2 s) and a vote forwarded later than most of a
 * 4 s slot is of little use to anyone; waiting longer would only hold the worker's memory.
 */
export const VERDICT_DEADLINE_MS = 3_000;
/** How often expired verdicts are swept (the deadline is honoured to within this). */
export const VERDICT_SWEEP_MS = 250;
/**
 * Holds the outbox keeps at once: one per (kind, peer) the node holds. The node asks only for
 * peers whose lane overflowed (it has 64 lanes per kind), so this is never reached in practice;
 * past it the hold that ends soonest is forgotten. A key is a kind and a peer id (at most ~70
 * bytes), so the map stays under ~64 KiB.
 */
export const MAX_GOSSIP_HOLDS = 512;
/** The longest hold the outbox accepts, whatever the node asks: a peer is never silenced for long. */
export const MAX_GOSSIP_HOLD_MS = 2_000;

/** A per-kind counter totalled over the topic kinds. */
export function totalOverKinds(byKind: Readonly<Record<GossipKind, number>>): number {
  return byKind.block + byKind.attestation + byKind.aggregation;
}

/** The boundary's drops, totalled over topic kinds, by reason (the node's metric labels). */
export function boundaryDrops(
  stats: BoundaryStats,
): Record<"full_count" | "full_bytes" | "verdict_timeout" | "peer_held", number> {
  return {
    full_count: totalOverKinds(stats.droppedCount),
    full_bytes: totalOverKinds(stats.droppedBytes),
    verdict_timeout: totalOverKinds(stats.verdictTimeouts),
    peer_held: totalOverKinds(stats.droppedHeld),
  };
}

/** Every message the boundary has shed, whatever the reason. */
export function boundaryShedTotal(stats: BoundaryStats): number {
  const drops = boundaryDrops(stats);
  return drops.full_count + drops.full_bytes + drops.verdict_timeout + drops.peer_held;
}

/**
 * Messages the boundary must shed, since the last time this marked one, before the worker counts a
 * burst for its heap reducer (HeapReducer.markBurst): a node sheds none in normal running and
 * thousands a second under a flood.
 */
export const HEAP_BURST_SHED_MESSAGES = 1_000;

type Pending = { kind: GossipKind; bytes: number; deadline: number; resolve: (verdict: GossipVerdict) => void };
type NewItem = Omit<GossipWorkItem, "id">;

export type GossipOutboxOptions = {
  post: (items: GossipWorkItem[]) => void;
  limits?: Partial<Record<GossipKind, ChannelLimits>>;
  maxBatchItems?: number;
  maxBatchBytes?: number;
  verdictDeadlineMs?: number;
  /** Runs the flush of a partly filled batch later in this event-loop turn (default setImmediate). */
  schedule?: (flush: () => void) => void;
  now?: () => number;
};

const perKind = <T>(make: () => T): Record<GossipKind, T> => ({
  block: make(),
  attestation: make(),
  aggregation: make(),
});

export class GossipOutbox {
  private readonly post: (items: GossipWorkItem[]) => void;
  private readonly limits: Record<GossipKind, ChannelLimits>;
  private readonly maxBatchItems: number;
  private readonly maxBatchBytes: number;
  private readonly deadlineMs: number;
  private readonly schedule: (flush: () => void) => void;
  private readonly now: () => number;
  /** Insertion order is id order is deadline order: expiry sweeps from the front. */
  private readonly pending = new Map<number, Pending>();
  private readonly pendingItems = perKind(() => 0);
  private readonly pendingBytes = perKind(() => 0);
  private readonly holds = new HoldTable(MAX_GOSSIP_HOLDS);
  private batch: GossipWorkItem[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private nextId = 1;
  private readonly counters = {
    droppedCount: perKind(() => 0),
    droppedBytes: perKind(() => 0),
    verdictTimeouts: perKind(() => 0),
    droppedHeld: perKind(() => 0),
    refusedBeforeDecode: perKind(() => 0),
    lateVerdicts: 0,
    batches: 0,
    items: 0,
  };

  constructor(options: GossipOutboxOptions) {
    this.post = options.post;
    this.limits = { ...DEFAULT_CHANNEL_LIMITS, ...options.limits };
    this.maxBatchItems = options.maxBatchItems ?? MAX_BATCH_ITEMS;
    this.maxBatchBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
    this.deadlineMs = options.verdictDeadlineMs ?? VERDICT_DEADLINE_MS;
    this.schedule = options.schedule ?? ((flush) => setImmediate(flush));
    this.now = options.now ?? Date.now;
  }

  /** Queues a message for the driver thread; resolves to its verdict (IGNORE when dropped or late). */
  offer(item: NewItem): Promise<GossipVerdict> | GossipVerdict {
    const { kind, bytes } = item;
    if (!this.hasRoom(kind, item.peer, bytes)) return "ignore";
    const id = this.nextId++;
    this.pendingItems[kind]++;
    this.pendingBytes[kind] += bytes;
    const verdict = new Promise<GossipVerdict>((resolve) => {
      this.pending.set(id, { kind, bytes, deadline: this.now() + this.deadlineMs, resolve });
    });
    // Packed only once it is taken: one allocation per vote on the driver thread (packVote.ts).
    this.batch.push({ ...item, value: packGossipValue(kind, item.value), id } as GossipWorkItem);
    this.batchBytes += bytes;
    if (this.batch.length >= this.maxBatchItems || this.batchBytes >= this.maxBatchBytes) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
    return verdict;
  }

  /**
   * Whether a message of `kind` from `peer`, not yet decompressed or decoded, could be offered now:
   * false when offer() would drop it (its sender held, the channel at its cap of items, or of bytes
   * with no room for even one more). Asked per message as gossipsub's RPC arrives
   * (gossip/rpcAdmission.ts), so a message the boundary would drop costs no hashing, decompression,
   * decoding or seen-cache entry. A refusal is counted under offer()'s reason and as refused before
   * decode.
   */
  admit(kind: GossipKind, peer: string): boolean {
    if (this.hasRoom(kind, peer, 1)) return true;
    this.counters.refusedBeforeDecode[kind]++;
    return false;
  }

  /**
   * The node's lane for `peer`'s messages of `kind` overflowed: IGNORE what the peer sends of that
   * kind for the next `ms` (at most MAX_GOSSIP_HOLD_MS), so it is not carried across only to be
   * dropped there. A later hold for the same key replaces the earlier one.
   */
  hold(kind: GossipKind, peer: string, ms: number): void {
    if (!(ms > 0)) return;
    const now = this.now();
    this.holds.hold(holdKey(kind, peer), now + Math.min(ms, MAX_GOSSIP_HOLD_MS), now);
  }

  /** Holds in force now (a gauge for tests and diagnostics). */
  holdCount(): number {
    return this.holds.activeCount(this.now());
  }

  /** Posts the batch being filled (normally called by the scheduler, once per loop turn). */
  flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const items = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.counters.batches++;
    this.counters.items += items.length;
    this.post(items);
  }

  /** Verdicts from the driver thread, ids[i] got verdicts[i]. */
  onVerdicts(ids: readonly number[], verdicts: readonly GossipVerdict[]): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const entry = this.pending.get(id);
      if (entry === undefined) {
        this.counters.lateVerdicts++;
        continue;
      }
      this.settle(id, entry, verdicts[i] ?? "ignore");
    }
  }

  /** IGNOREs every message whose deadline has passed; returns how many. */
  expire(): number {
    const now = this.now();
    let expired = 0;
    for (const [id, entry] of this.pending) {
      if (entry.deadline > now) break;
      this.counters.verdictTimeouts[entry.kind]++;
      this.settle(id, entry, "ignore");
      expired++;
    }
    return expired;
  }

  /** IGNOREs everything still waiting (the driver thread is gone or the worker stops). */
  close(): void {
    this.batch = [];
    this.batchBytes = 0;
    for (const [id, entry] of this.pending) this.settle(id, entry, "ignore");
  }

  stats(): BoundaryStats {
    const c = this.counters;
    let pendingItems = 0;
    let pendingBytes = 0;
    for (const kind of ["block", "attestation", "aggregation"] as const) {
      pendingItems += this.pendingItems[kind];
      pendingBytes += this.pendingBytes[kind];
    }
    return {
      droppedCount: { ...c.droppedCount },
      droppedBytes: { ...c.droppedBytes },
      verdictTimeouts: { ...c.verdictTimeouts },
      droppedHeld: { ...c.droppedHeld },
      refusedBeforeDecode: { ...c.refusedBeforeDecode },
      lateVerdicts: c.lateVerdicts,
      batches: c.batches,
      items: c.items,
      pendingItems,
      pendingBytes,
      holds: this.holdCount(),
    };
  }

  /** offer()'s checks, cheapest first; a message with no room is counted by reason. */
  private hasRoom(kind: GossipKind, peer: string, bytes: number): boolean {
    if (this.holds.size > 0 && this.holds.isHeld(holdKey(kind, peer), this.now())) {
      this.counters.droppedHeld[kind]++;
      return false;
    }
    const limit = this.limits[kind];
    if (this.pendingItems[kind] >= limit.items) {
      this.counters.droppedCount[kind]++;
      return false;
    }
    if (this.pendingBytes[kind] + bytes > limit.bytes) {
      this.counters.droppedBytes[kind]++;
      return false;
    }
    return true;
  }

  private settle(id: number, entry: Pending, verdict: GossipVerdict): void {
    this.pending.delete(id);
    this.pendingItems[entry.kind]--;
    this.pendingBytes[entry.kind] -= entry.bytes;
    entry.resolve(verdict);
  }
}

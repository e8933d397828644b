// The node's database write queue: one write at a time in arrival order (a finality batch never
// overtakes the blocks it names), bounded in writes and bytes, and a failed write is retried with
// backoff instead of being forgotten. Block import is back-pressured before the bound is reached.
import type { Logger } from "@metronome/common";

export type WriteKind = "block" | "finality";

export interface WriteTask {
  kind: WriteKind;
  /** Serialized bytes the write holds in memory until it lands (the bound counts these). */
  bytes: number;
  /** For logs: what is being written. */
  label: string;
  run: () => Promise<void>;
}

export interface WriteQueueLimits {
  maxWrites: number;
  maxBytes: number;
  /** Fraction of either bound at which block import stops taking blocks. */
  backpressureFraction: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Block writes waiting at once: a few epochs of blocks while the disk stalls; more would be a leak. */
export const MAX_QUEUED_WRITES = 256;
/** Bytes held by waiting writes: SSZ blocks and anchor states here are KiB each, so this is ample headroom. */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Import stops at 3/4 so own proposals and orphan children released by one import still fit. */
export const BACKPRESSURE_FRACTION = 0.75;
/** First retry delay of a failed write: a transient error (fs hiccup) clears within a few. */
export const WRITE_RETRY_BASE_MS = 50;
/** Retry delay ceiling: a failing disk is probed every 5 s, not spun on. */
export const WRITE_RETRY_MAX_MS = 5_000;

export const DEFAULT_WRITE_QUEUE_LIMITS: WriteQueueLimits = {
  maxWrites: MAX_QUEUED_WRITES,
  maxBytes: MAX_QUEUED_BYTES,
  backpressureFraction: BACKPRESSURE_FRACTION,
  retryBaseMs: WRITE_RETRY_BASE_MS,
  retryMaxMs: WRITE_RETRY_MAX_MS,
};

export interface WriteQueueStats {
  /** Writes waiting or running. */
  writes: number;
  bytes: number;
  written: Record<WriteKind, number>;
  /** Failed attempts (each retry that fails counts again). */
  failures: Record<WriteKind, number>;
  /** Failures in a row of the write at the head; 0 while writes succeed. */
  consecutiveFailures: number;
  lastError: string | null;
  /** Queued finality writes replaced by a later finality (its batch covers theirs). */
  superseded: number;
  /** Block imports refused because the write queue was at its bound. */
  refused: number;
  /** Block import is paused for room. */
  backpressure: boolean;
}

/** Exponential backoff, capped: base, 2*base, 4*base ... max. */
export function retryDelayMs(attempt: number, limits: Pick<WriteQueueLimits, "retryBaseMs" | "retryMaxMs">): number {
  return Math.min(limits.retryMaxMs, limits.retryBaseMs * 2 ** Math.min(attempt, 30));
}

export class WriteQueue {
  readonly limits: WriteQueueLimits;
  private readonly logger: Logger;
  /** items[0] is the write running (or backing off) while `draining`. */
  private readonly items: WriteTask[] = [];
  private queuedBytes = 0;
  private draining = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private roomListeners: (() => void)[] = [];
  private wasPressured = false;
  private readonly s = {
    written: { block: 0, finality: 0 },
    failures: { block: 0, finality: 0 },
    consecutiveFailures: 0,
    lastError: null as string | null,
    superseded: 0,
    refused: 0,
  };

  constructor(logger: Logger, limits: Partial<WriteQueueLimits> = {}) {
    this.logger = logger;
    this.limits = { ...DEFAULT_WRITE_QUEUE_LIMITS, ...limits };
  }

  get size(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** Whether a block write of `bytes` fits under the hard bound (an empty queue takes anything). */
  hasRoomFor(bytes: number): boolean {
    if (this.items.length === 0) return true;
    return this.items.length < this.limits.maxWrites && this.queuedBytes + bytes <= this.limits.maxBytes;
  }

  /** False once the queue is past the back-pressure mark: block import should wait. */
  acceptsImports(): boolean {
    const f = this.limits.backpressureFraction;
    return this.items.length < this.limits.maxWrites * f && this.queuedBytes < this.limits.maxBytes * f;
  }

  /** Called once each time the queue drops back below the back-pressure mark. */
  onRoom(listener: () => void): void {
    this.roomListeners.push(listener);
  }

  /** Whether one more block may be imported (and written); a refusal is counted. */
  admitsBlock(): boolean {
    if (this.hasRoomFor(0)) return true;
    this.s.refused++;
    return false;
  }

  /**
   * Queues a block write. Import asks admitsBlock() first; blocks released by an import that was
   * admitted (orphan children) come without asking, so the queue can exceed its bound by at most
   * the orphan pool's capacity. A block write is never dropped: a canonical block missing from
   * the store could not be finalized.
   */
  pushBlock(task: WriteTask): void {
    if (this.closed) return;
    this.enqueue(task);
  }

  /**
   * Queues a finality write, replacing any finality write still waiting (not the one running): a
   * finality batch indexes the whole canonical chain from the stored anchor, so the later one
   * covers the skipped range. At most one waits and one runs, so this never grows past the bound
   * by more than one write.
   */
  pushFinality(task: WriteTask): void {
    if (this.closed) return;
    for (let i = this.items.length - 1; i >= (this.draining ? 1 : 0); i--) {
      const item = this.items[i];
      if (item?.kind === "finality") {
        this.items.splice(i, 1);
        this.queuedBytes -= item.bytes;
        this.s.superseded++;
      }
    }
    this.enqueue(task);
  }

  stats(): WriteQueueStats {
    return {
      writes: this.items.length,
      bytes: this.queuedBytes,
      written: { ...this.s.written },
      failures: { ...this.s.failures },
      consecutiveFailures: this.s.consecutiveFailures,
      lastError: this.s.lastError,
      superseded: this.s.superseded,
      refused: this.s.refused,
      backpressure: !this.acceptsImports(),
    };
  }

  /** Resolves once every queued write has landed (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.draining && this.items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops retrying and takes no more writes; resolves when the write in progress (if any) ends.
   * What is still queued is abandoned: blocks are fetched again and finality is recomputed from
   * the stored anchor on the next start, which the batch design keeps consistent.
   */
  async close(): Promise<number> {
    this.closed = true;
    this.wake?.();
    const abandoned = Math.max(0, this.items.length - (this.draining ? 1 : 0));
    await this.idle();
    return abandoned;
  }

  private enqueue(task: WriteTask): void {
    this.items.push(task);
    this.queuedBytes += task.bytes;
    if (!this.acceptsImports()) this.wasPressured = true;
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.items.length > 0 && !this.closed) {
      const task = this.items[0] as WriteTask;
      await this.runWithRetry(task);
      this.items.shift();
      this.queuedBytes -= task.bytes;
      if (this.wasPressured && this.acceptsImports()) {
        this.wasPressured = false;
        for (const listener of this.roomListeners) listener();
      }
    }
    if (this.closed) {
      this.items.length = 0;
      this.queuedBytes = 0;
    }
    this.draining = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async runWithRetry(task: WriteTask): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await task.run();
        this.s.written[task.kind]++;
        if (this.s.consecutiveFailures > 0) {
          this.logger.info("database write succeeded after retrying", { write: task.label, attempts: attempt + 1 });
        }
        this.s.consecutiveFailures = 0;
        this.s.lastError = null;
        return;
      } catch (err) {
        this.s.failures[task.kind]++;
        this.s.consecutiveFailures++;
        this.s.lastError = err instanceof Error ? err.message : String(err);
        const delay = retryDelayMs(attempt, this.limits);
        this.logger.error("database write failed; retrying", { write: task.label, attempt: attempt + 1, delay }, err);
        if (this.closed) return;
        if (task.kind === "finality" && this.items.some((t, i) => i > 0 && t.kind === "finality")) {
          // A later finality is queued: its batch covers this one's range.
          this.s.superseded++;
          return;
        }
        await this.sleep(delay);
        if (this.closed) return;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

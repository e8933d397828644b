// The main loop (the shape the flood write-up arrived at): each pass handles at most ONE bounded
// batch of queued work, then services the interval tick if a boundary has passed, then yields to
// the event loop so network I/O gets its turn. A pass can never run long enough to starve the
// tick, because its work is bounded by the batch size.
import type { DueInterval, IntervalTracker, SlotClock } from "@metronome/clock";

export interface DriverWork {
  /** Runs one bounded batch of queued work; returns how many items it handled (0: idle). */
  runBatch(maxItems: number): number;
  /** Whether any work is queued (decides between yielding and sleeping). */
  hasWork(): boolean;
}

export interface DriverHooks {
  onInterval(due: DueInterval): void;
  /** Called every pass after the tick, e.g. the block fetcher issuing requests. */
  afterPass?(): void;
  onError(err: unknown, where: string): void;
}

export interface DriverStats {
  passes: number;
  batches: number;
  itemsProcessed: number;
  maxBatchSize: number;
  ticks: number;
  intervalsMissed: number;
  lastTickAtMs: number;
  lastTickLateMs: number;
  maxTickLateMs: number;
}

export interface DriverOptions {
  clock: SlotClock;
  tracker: IntervalTracker;
  work: DriverWork;
  hooks: DriverHooks;
  /** Upper bound of items per pass; `Infinity` removes the bound (the flood benchmark's ablation). */
  maxBatch: number;
  /** Observes each tick's lateness (ms) for histograms. */
  onTickLateness?: (lateMs: number, caughtUp: boolean) => void;
  /** After every pass; `idle` when it handled nothing and ran no tick (a wake-up with no room for work). */
  onPass?: (batchSize: number, durationMs: number, idle: boolean) => void;
}

export class Driver {
  readonly stats: DriverStats = {
    passes: 0,
    batches: 0,
    itemsProcessed: 0,
    maxBatchSize: 0,
    ticks: 0,
    intervalsMissed: 0,
    lastTickAtMs: 0,
    lastTickLateMs: 0,
    maxTickLateMs: 0,
  };
  private readonly opts: DriverOptions;
  private running = false;
  private wake: (() => void) | null = null;
  private sleepTimer: ReturnType<typeof setTimeout> | null = null;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(opts: DriverOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loopDone;
  }

  /**
   * Ingress calls this when it queues work, so a sleeping loop wakes in the next event-loop turn.
   * Not in this one: notify() is called from inside network callbacks, and resuming the loop
   * there would run a pass in the middle of the I/O phase, once per message, instead of one
   * bounded batch between I/O phases.
   */
  notify(): void {
    const wake = this.wake;
    if (wake === null) return;
    this.wake = null;
    if (this.sleepTimer !== null) {
      clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
    }
    setImmediate(wake);
  }

  /** One pass: a bounded batch, then the tick if due. Exposed for tests. */
  pass(): void {
    const { work, hooks, tracker, clock, maxBatch } = this.opts;
    const started = performance.now();
    this.stats.passes++;
    let handled = 0;
    try {
      handled = work.runBatch(maxBatch);
    } catch (err) {
      hooks.onError(err, "batch");
    }
    if (handled > 0) {
      this.stats.batches++;
      this.stats.itemsProcessed += handled;
      if (handled > this.stats.maxBatchSize) this.stats.maxBatchSize = handled;
    }
    let ticked = false;
    for (const due of tracker.due(clock.now())) {
      ticked = true;
      this.stats.ticks++;
      this.stats.intervalsMissed += due.skippedBefore;
      this.stats.lastTickAtMs = clock.now();
      this.stats.lastTickLateMs = due.lateMs;
      if (due.lateMs > this.stats.maxTickLateMs) this.stats.maxTickLateMs = due.lateMs;
      this.opts.onTickLateness?.(due.lateMs, due.caughtUp);
      try {
        hooks.onInterval(due);
      } catch (err) {
        hooks.onError(err, `interval ${due.interval}`);
      }
    }
    try {
      hooks.afterPass?.();
    } catch (err) {
      hooks.onError(err, "afterPass");
    }
    this.opts.onPass?.(handled, performance.now() - started, handled === 0 && !ticked);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.pass();
      if (!this.running) break;
      if (this.opts.work.hasWork()) {
        // Yield a full event-loop turn (I/O callbacks run) before the next batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else {
        await this.sleepUntilBoundaryOrWork();
      }
    }
  }

  /**
   * Sleeps until the boundary of the interval the tracker will return next, not the boundary after
   * a fresh `now()`: the clock may cross a boundary between the pass's `due` check and this call,
   * and sleeping to the following one would service that tick a whole interval late. Never longer
   * than one interval, so a wall clock stepped back or forward is re-read at least that often.
   */
  private sleepUntilBoundaryOrWork(): Promise<void> {
    const { clock, tracker } = this.opts;
    const untilDue = clock.startMsOfInterval(tracker.nextInterval) - clock.now();
    const delay = Math.min(Math.max(0, untilDue), clock.intervalDurationMs);
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = null;
        this.wake = null;
        resolve();
      }, delay);
    });
  }
}

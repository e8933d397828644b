// Which intervals are due since the last one serviced: each missed interval exactly once, in order,
// with a replay cap for long stalls. Pure bookkeeping over a SlotClock; the driver acts on it.
import { requireInteger } from "./errors.ts";
import type { SlotClock } from "./slotClock.ts";

/**
 * Default replay cap, in slots. A few missed intervals (GC pause, busy event loop) are always
 * replayed in full; only a stall longer than this (suspend, debugger, clock jump) is cut short,
 * because duties for slots that far back (proposing, attesting) are useless to the network.
 */
export const DEFAULT_MAX_CATCH_UP_SLOTS = 16;

export interface IntervalTrackerOptions {
  clock: SlotClock;
  /**
   * The first interval `due` may return; every earlier interval counts as already serviced, so
   * start-up never replays history. Pass `clock.currentInterval()` to service the interval the node
   * starts in, `+ 1` to wait for the next boundary, or `storeTime + 1` to resume after an anchor.
   * Negative values are raised to 0: no interval before genesis is ever due.
   */
  firstInterval: number;
  /** Most intervals one `due` call returns; default DEFAULT_MAX_CATCH_UP_SLOTS slots' worth. */
  maxCatchUp?: number;
}

export interface DueInterval {
  /** Intervals since genesis. */
  interval: number;
  slot: number;
  intervalInSlot: number;
  /** Wall-clock ms at which this interval began. */
  boundaryMs: number;
  /** `now - boundaryMs` at the time of the `due` call; >= 0. */
  lateMs: number;
  /** True for every entry but the newest: the interval had already ended when it was serviced. */
  caughtUp: boolean;
  /**
   * Intervals dropped by the replay cap immediately before this one (their duties are not run).
   * Non-zero only on the first entry of a call. A driver that must keep store time contiguous can
   * still step over `interval - skippedBefore .. interval - 1` without their duties.
   */
  skippedBefore: number;
}

/**
 * Decides which intervals are due. Each interval is returned at most once, in increasing order,
 * and only once its boundary has passed. Missed intervals are replayed in order (PROTOCOL.md §1);
 * when more than `maxCatchUp` are due at once, the oldest are skipped and reported.
 *
 * A clock that steps backwards yields nothing until wall time passes the next unserviced boundary
 * again, so nothing is ever serviced twice.
 */
export class IntervalTracker {
  readonly clock: SlotClock;
  readonly maxCatchUp: number;
  private next: number;
  private skipped = 0;
  private invalidNow = 0;

  constructor(options: IntervalTrackerOptions) {
    this.clock = options.clock;
    this.next = Math.max(0, requireInteger("firstInterval", options.firstInterval, Number.MIN_SAFE_INTEGER));
    this.maxCatchUp = requireInteger(
      "maxCatchUp",
      options.maxCatchUp ?? DEFAULT_MAX_CATCH_UP_SLOTS * this.clock.intervalsPerSlot,
      1,
    );
  }

  /** The next interval `due` will return once its boundary passes. */
  get nextInterval(): number {
    return this.next;
  }

  /** Newest interval already returned (or counted as serviced at start); -1 when none. */
  get lastServicedInterval(): number {
    return this.next - 1;
  }

  /** Total intervals dropped by the replay cap since construction. */
  get skippedTotal(): number {
    return this.skipped;
  }

  /** `due` calls ignored because the time given was not a finite number. */
  get invalidNowCount(): number {
    return this.invalidNow;
  }

  /** Every interval whose boundary is <= `nowMs` and has not been returned yet, oldest first. */
  due(nowMs: number = this.clock.now()): DueInterval[] {
    if (!Number.isFinite(nowMs)) {
      this.invalidNow++;
      return [];
    }
    const newest = this.clock.intervalAt(nowMs);
    if (newest < this.next) return [];

    const backlog = newest - this.next + 1;
    const skippedBefore = Math.max(0, backlog - this.maxCatchUp);
    this.skipped += skippedBefore;
    const from = this.next + skippedBefore;
    // Advance before building the result so that a throw in a caller's loop cannot re-yield.
    this.next = newest + 1;

    const result: DueInterval[] = [];
    for (let interval = from; interval <= newest; interval++) {
      const boundaryMs = this.clock.startMsOfInterval(interval);
      result.push({
        interval,
        slot: this.clock.slotOfInterval(interval),
        intervalInSlot: this.clock.intervalInSlot(interval),
        boundaryMs,
        lateMs: nowMs - boundaryMs,
        caughtUp: interval !== newest,
        skippedBefore: interval === from ? skippedBefore : 0,
      });
    }
    return result;
  }
}

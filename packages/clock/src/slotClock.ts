// Wall-clock time to slots and intervals since genesis (floor-based, defined before genesis too).
// The defaults restate the chain's SECONDS_PER_SLOT and INTERVALS_PER_SLOT, which this package may
// not import; packages/node/test/node/clockChainTiming.test.ts pins them equal.
import { ClockOptionsError, requireInteger } from "./errors.ts";

export const DEFAULT_SLOT_DURATION_MS = 4000;
export const DEFAULT_INTERVALS_PER_SLOT = 5;

export interface SlotClockOptions {
  /** Unix time (seconds) at which slot 0, interval 0 begins. */
  genesisTimeSec: number;
  /** Length of one slot; must split evenly into `intervalsPerSlot` whole milliseconds. */
  slotDurationMs?: number;
  intervalsPerSlot?: number;
  /** Wall-clock source in milliseconds since the Unix epoch; injectable so tests never sleep. */
  now?: () => number;
}

/**
 * Maps wall-clock milliseconds to intervals and slots since genesis.
 *
 * All arithmetic is floor-based and defined for any time, so before genesis intervals and slots
 * are negative (use `isBeforeGenesis` to gate duties). An instant exactly on a boundary belongs to
 * the interval that starts there.
 */
export class SlotClock {
  readonly genesisTimeSec: number;
  readonly genesisMs: number;
  readonly slotDurationMs: number;
  readonly intervalsPerSlot: number;
  readonly intervalDurationMs: number;
  readonly now: () => number;

  constructor(options: SlotClockOptions) {
    this.genesisTimeSec = requireInteger("genesisTimeSec", options.genesisTimeSec, 0);
    this.genesisMs = this.genesisTimeSec * 1000;
    if (!Number.isSafeInteger(this.genesisMs)) {
      throw new ClockOptionsError("genesisTimeSec", `is too large to express in milliseconds: ${this.genesisTimeSec}`);
    }
    this.slotDurationMs = requireInteger("slotDurationMs", options.slotDurationMs ?? DEFAULT_SLOT_DURATION_MS, 1);
    this.intervalsPerSlot = requireInteger(
      "intervalsPerSlot",
      options.intervalsPerSlot ?? DEFAULT_INTERVALS_PER_SLOT,
      1,
    );
    // Whole-millisecond intervals keep every boundary an exact integer, so no rounding can make two
    // nodes disagree about which interval an instant belongs to.
    if (this.slotDurationMs % this.intervalsPerSlot !== 0) {
      throw new ClockOptionsError(
        "slotDurationMs",
        `must be a multiple of intervalsPerSlot (${this.intervalsPerSlot}) so each interval is a whole number of ms, got ${this.slotDurationMs}`,
      );
    }
    this.intervalDurationMs = this.slotDurationMs / this.intervalsPerSlot;
    const now = options.now ?? Date.now;
    if (typeof now !== "function") {
      throw new ClockOptionsError("now", "must be a function returning milliseconds since the Unix epoch");
    }
    this.now = now;
  }

  /** Interval (since genesis) containing `ms`; negative before genesis. Throws on a non-finite time. */
  intervalAt(ms: number): number {
    if (!Number.isFinite(ms)) throw new RangeError(`time must be a finite number of ms, got ${ms}`);
    return Math.floor((ms - this.genesisMs) / this.intervalDurationMs);
  }

  /** Slot containing `ms`; negative before genesis. */
  slotAt(ms: number): number {
    return this.slotOfInterval(this.intervalAt(ms));
  }

  isBeforeGenesis(ms: number = this.now()): boolean {
    return ms < this.genesisMs;
  }

  /** Intervals elapsed since genesis (floor); negative before genesis. */
  currentInterval(): number {
    return this.intervalAt(this.now());
  }

  /** Slots elapsed since genesis (floor); negative before genesis. */
  currentSlot(): number {
    return this.slotAt(this.now());
  }

  /** Position 0..intervalsPerSlot-1 of an interval within its slot (also for negative intervals). */
  intervalInSlot(interval: number): number {
    const n = this.intervalsPerSlot;
    return ((interval % n) + n) % n;
  }

  slotOfInterval(interval: number): number {
    return Math.floor(interval / this.intervalsPerSlot);
  }

  /** Global interval number of position `intervalInSlot` of `slot`. */
  intervalOf(slot: number, intervalInSlot: number): number {
    return slot * this.intervalsPerSlot + intervalInSlot;
  }

  startMsOfInterval(interval: number): number {
    return this.genesisMs + interval * this.intervalDurationMs;
  }

  startMsOfSlot(slot: number): number {
    return this.genesisMs + slot * this.slotDurationMs;
  }

  /**
   * The first interval boundary strictly after `ms`: exactly on a boundary this is the one after
   * (never zero wait). Before genesis it is genesis itself, as in leanSpec: pre-genesis boundaries
   * carry no duties, so there is nothing to wake for.
   */
  nextIntervalBoundaryMs(ms: number = this.now()): number {
    if (ms < this.genesisMs) return this.genesisMs;
    return this.startMsOfInterval(this.intervalAt(ms) + 1);
  }

  /** Milliseconds until `nextIntervalBoundaryMs`; always > 0. */
  msUntilNextInterval(ms: number = this.now()): number {
    return this.nextIntervalBoundaryMs(ms) - ms;
  }
}

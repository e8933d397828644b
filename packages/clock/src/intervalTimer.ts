// Fires a callback at each interval boundary of a SlotClock, re-armed from the clock after every
// fire so timer drift never accumulates; the timer API is injected so tests drive time by hand.
import { ClockOptionsError } from "./errors.ts";
import type { SlotClock } from "./slotClock.ts";

/** Opaque handle returned by a TimerApi's setTimeout. */
export type TimerHandle = unknown;

/** The two timer calls the IntervalTimer needs; injectable so tests drive time by hand. */
export interface TimerApi {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const nodeTimers: TimerApi = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};

/** Node clamps longer delays to 1 ms; a far-away genesis is reached through several re-arms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface IntervalTick {
  /** Interval whose boundary this wake-up was scheduled for. */
  interval: number;
  boundaryMs: number;
  wokeAtMs: number;
  /** `wokeAtMs - boundaryMs`; >= 0, since an early wake-up is re-armed instead of reported. */
  lateMs: number;
  /** Further boundaries passed before the wake-up (0 when on time); the tracker replays them. */
  boundariesPassed: number;
}

export interface IntervalTimerOptions {
  clock: SlotClock;
  /** Called once per wake-up; ask an IntervalTracker what is due. May be async. */
  onTick: (tick: IntervalTick) => void | Promise<void>;
  /** Receives anything `onTick` throws or rejects with; the timer keeps running. Default: console.error. */
  onError?: (error: unknown) => void;
  timers?: TimerApi;
}

/**
 * Wakes its caller at every interval boundary. Each wake-up schedules exactly one timeout to the
 * next boundary computed from the wall clock, never by adding durations, so lateness of one tick
 * cannot carry into the next. It only wakes: deciding what is due is IntervalTracker's job, so a
 * late or merged wake-up loses nothing.
 */
export class IntervalTimer {
  private readonly clock: SlotClock;
  private readonly onTick: IntervalTimerOptions["onTick"];
  private readonly onError: (error: unknown) => void;
  private readonly timers: TimerApi;
  private handle: TimerHandle = null;
  private armed = false;
  private running = false;
  private early = 0;
  private ticks = 0;
  private invalid = 0;

  constructor(options: IntervalTimerOptions) {
    if (typeof options.onTick !== "function") throw new ClockOptionsError("onTick", "must be a function");
    this.clock = options.clock;
    this.onTick = options.onTick;
    this.onError = options.onError ?? ((error) => console.error("IntervalTimer onTick failed:", error));
    this.timers = options.timers ?? nodeTimers;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Wake-ups that came before their boundary (wall clock stepped back, or timer skew) and were re-armed. */
  get earlyWakeups(): number {
    return this.early;
  }

  /** Wake-ups at which the clock returned a non-finite time; each is retried one interval later. */
  get invalidNowCount(): number {
    return this.invalid;
  }

  get tickCount(): number {
    return this.ticks;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    this.arm(this.clock.nextIntervalBoundaryMs(now), now);
  }

  stop(): void {
    this.running = false;
    this.disarm();
  }

  private arm(boundaryMs: number, now: number): void {
    this.disarm();
    const delay = Math.min(Math.max(0, boundaryMs - now), MAX_TIMER_DELAY_MS);
    this.armed = true;
    this.handle = this.timers.setTimeout(() => this.wake(boundaryMs), delay);
  }

  private disarm(): void {
    if (!this.armed) return;
    this.timers.clearTimeout(this.handle);
    this.armed = false;
    this.handle = null;
  }

  private wake(boundaryMs: number): void {
    this.armed = false;
    this.handle = null;
    if (!this.running) return;
    const now = this.clock.now();
    if (!Number.isFinite(now)) {
      // A broken time source must not kill the process from inside a timer callback; retry later.
      this.invalid++;
      this.armed = true;
      this.handle = this.timers.setTimeout(() => this.wake(boundaryMs), this.clock.intervalDurationMs);
      return;
    }
    if (now < boundaryMs) {
      this.early++;
      this.arm(boundaryMs, now);
      return;
    }
    // Re-arm before calling out, from the wall clock as it is now: a slow or throwing onTick
    // cannot stop the timer, and the next wake-up lands on a real boundary however late this was.
    this.arm(this.clock.nextIntervalBoundaryMs(now), now);
    this.ticks++;
    const interval = this.clock.intervalAt(boundaryMs);
    const tick: IntervalTick = {
      interval,
      boundaryMs,
      wokeAtMs: now,
      lateMs: now - boundaryMs,
      boundariesPassed: this.clock.intervalAt(now) - interval,
    };
    try {
      const result = this.onTick(tick);
      if (result instanceof Promise) result.catch(this.onError);
    } catch (error) {
      this.onError(error);
    }
  }
}

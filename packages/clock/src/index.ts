// The slot clock package's public face: time model, interval tracking and timing, option errors.
export { ClockOptionsError } from "./errors.ts";
export { formatSlotInterval } from "./format.ts";
export {
  type IntervalTick,
  IntervalTimer,
  type IntervalTimerOptions,
  MAX_TIMER_DELAY_MS,
  nodeTimers,
  type TimerApi,
  type TimerHandle,
} from "./intervalTimer.ts";
export {
  DEFAULT_MAX_CATCH_UP_SLOTS,
  type DueInterval,
  IntervalTracker,
  type IntervalTrackerOptions,
} from "./intervalTracker.ts";
export { DEFAULT_INTERVALS_PER_SLOT, DEFAULT_SLOT_DURATION_MS, SlotClock, type SlotClockOptions } from "./slotClock.ts";

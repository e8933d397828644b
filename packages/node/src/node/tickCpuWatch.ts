// Says why an interval tick was late: the driver thread's own work, or a machine that kept it
// waiting for a CPU. Shortly before each interval boundary the watch notes the thread's scheduler
// times; when a tick runs late, what they grew by since then splits the lateness into time on a
// CPU (the node's work: a long batch, a collection) and time runnable but not running (other
// processes, or a kernel thread that cannot be preempted, had the cores). The late-tick log line
// carries the split. Pure logic: the reader, the clock and the timer are injected.
import { cpuTimesBetween, type ThreadCpuTimes } from "@metronome/clock/threadCpuTimes";

/**
 * How long before a boundary the times are noted. Short, so little else the thread does falls in
 * the window; long enough that the note is taken before the boundary even when the thread's
 * timers run a few milliseconds late, which is when the split is wanted.
 */
export const TICK_CPU_SAMPLE_LEAD_MS = 20;

/** The driver thread's times over the window from the last note before a boundary to now. */
export interface TickCpuShare {
  windowMs: number;
  onCpuMs: number;
  cpuWaitMs: number;
}

export interface TickCpuWatchOptions {
  /** The driver thread's cumulative scheduler times (null where the kernel does not say). */
  read: () => ThreadCpuTimes | null;
  /** Wall-clock milliseconds (the slot clock's `now`). */
  now: () => number;
}

export class TickCpuWatch {
  private readonly read: () => ThreadCpuTimes | null;
  private readonly now: () => number;
  private note: { atMs: number; times: ThreadCpuTimes } | null = null;

  constructor(options: TickCpuWatchOptions) {
    this.read = options.read;
    this.now = options.now;
  }

  /** Notes the thread's times now (called TICK_CPU_SAMPLE_LEAD_MS before each boundary). */
  sample(): void {
    const times = this.read();
    if (times !== null) this.note = { atMs: this.now(), times };
  }

  /**
   * The split for a tick whose boundary was at `boundaryMs`, or null when no note was taken
   * before that boundary (the note itself came late, or the kernel does not say).
   */
  explain(boundaryMs: number): TickCpuShare | null {
    const note = this.note;
    if (note === null || note.atMs > boundaryMs) return null;
    const times = this.read();
    if (times === null) return null;
    const grown = cpuTimesBetween(note.times, times);
    return { windowMs: this.now() - note.atMs, onCpuMs: grown.onCpuMs, cpuWaitMs: grown.runQueueWaitMs };
  }
}

/** The timer calls the watch needs (injected so tests drive time by hand). */
export interface WatchTimers {
  setTimeout(fn: () => void, ms: number): { unref?: () => void };
  clearTimeout(handle: unknown): void;
}

/**
 * Runs `watch.sample()` TICK_CPU_SAMPLE_LEAD_MS before every boundary from the next one on; returns
 * a stop function. Each note is armed from the boundary it was for, so a late timer never makes
 * the next note skip its boundary or fire twice for one.
 */
export function startTickCpuSampling(
  watch: TickCpuWatch,
  boundaries: { now: () => number; nextBoundaryAfter: (ms: number) => number },
  timers: WatchTimers = globalThis as unknown as WatchTimers,
): () => void {
  let handle: { unref?: () => void } | null = null;
  let stopped = false;
  const arm = (boundaryMs: number): void => {
    if (stopped) return;
    const delay = Math.max(0, boundaryMs - TICK_CPU_SAMPLE_LEAD_MS - boundaries.now());
    handle = timers.setTimeout(() => {
      watch.sample();
      arm(boundaries.nextBoundaryAfter(Math.max(boundaryMs, boundaries.now())));
    }, delay);
    // Diagnosis must never keep a process alive.
    handle.unref?.();
  };
  arm(boundaries.nextBoundaryAfter(boundaries.now()));
  return () => {
    stopped = true;
    if (handle !== null) timers.clearTimeout(handle);
  };
}

// How a thread spent its time, from the kernel's scheduler statistics: on a CPU, or runnable and
// waiting for one. A late interval tick is either the driver thread's own work (on a CPU) or a
// machine that did not give it a core in time (waiting), and the two need different fixes: the
// first is ours, the second is the operator's (too many busy processes for the cores, or a kernel
// thread that cannot be preempted). Linux only (/proc/<pid>/task/<tid>/schedstat, present when the
// kernel has scheduler statistics); elsewhere every reader answers null.
import { readFileSync } from "node:fs";

/** Cumulative times of one thread since it started, in milliseconds. */
export interface ThreadCpuTimes {
  /** Time on a CPU (user and kernel). */
  onCpuMs: number;
  /** Time runnable but waiting on a run queue for a CPU. */
  runQueueWaitMs: number;
  /** Times the thread was given a CPU. */
  timeslices: number;
}

const NS_PER_MS = 1e6;

/**
 * `schedstat`'s three numbers ("<on-cpu ns> <run-queue wait ns> <timeslices>"), or null for any
 * other text. Nanoseconds past 2^53 (104 days of CPU) lose precision below a microsecond.
 */
export function parseSchedStat(text: string): ThreadCpuTimes | null {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3) return null;
  const [onCpuNs, waitNs, slices] = fields.map(Number) as [number, number, number];
  if (![onCpuNs, waitNs, slices].every((n) => Number.isFinite(n) && n >= 0)) return null;
  return { onCpuMs: onCpuNs / NS_PER_MS, runQueueWaitMs: waitNs / NS_PER_MS, timeslices: slices };
}

/**
 * One thread of this process (its OS thread id; the main thread's is the pid), or null where the
 * kernel does not say (not Linux, no scheduler statistics, the thread gone).
 */
export function readThreadCpuTimes(threadId: number): ThreadCpuTimes | null {
  try {
    return parseSchedStat(readFileSync(`/proc/${process.pid}/task/${threadId}/schedstat`, "utf8"));
  } catch {
    return null;
  }
}

/** The main thread's (the driver's: the slot clock runs there). Callable from any thread. */
export function readMainThreadCpuTimes(): ThreadCpuTimes | null {
  return readThreadCpuTimes(process.pid);
}

/** What `later` adds to `earlier` (both of one thread). */
export function cpuTimesBetween(earlier: ThreadCpuTimes, later: ThreadCpuTimes): ThreadCpuTimes {
  return {
    onCpuMs: later.onCpuMs - earlier.onCpuMs,
    runQueueWaitMs: later.runQueueWaitMs - earlier.runQueueWaitMs,
    timeslices: later.timeslices - earlier.timeslices,
  };
}

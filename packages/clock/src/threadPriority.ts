// The clock's thread keeps first claim on a core. A node's busy worker threads (BLS verification,
// the network stack) lower their own scheduling priority when they start, so when the driver
// thread wakes for an interval tick the kernel runs it ahead of them instead of giving it a time
// slice among equals. On two cores with three busy threads per node, waiting for a core was the
// tick's lateness (docs/performance.md). Linux only: nice is per thread there, and a thread finds
// its own id in /proc/thread-self. Elsewhere nothing changes and the caller is told why.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { isMainThread } from "node:worker_threads";

/**
 * BLS verification workers run this much nicer than the thread that started them: throughput work
 * that can wait a few milliseconds. Nice +10 is CFS weight 110 against the driver's 1024, so a
 * woken driver thread gets about 90% of a core it shares with a verifier.
 */
export const BLS_WORKER_NICE_OFFSET = 10;
/**
 * The network worker: below the driver (weight 335 against 1024), above verification, so gossip
 * keeps moving and verdicts go back within gossipsub's window while the verifier is saturated.
 */
export const NETWORK_WORKER_NICE_OFFSET = 5;
/** Linux's least favourable nice value. */
export const MAX_NICE = 19;

export type ThreadPriorityResult =
  | { applied: true; threadId: number; niceBefore: number; nice: number }
  | { applied: false; reason: string };

/** The OS id of the calling thread (Linux: /proc/thread-self names it), or null where unknown. */
export function currentOsThreadId(): number | null {
  try {
    const link = readlinkSync("/proc/thread-self");
    const id = Number(link.slice(link.lastIndexOf("/") + 1));
    return Number.isSafeInteger(id) && id > 0 ? id : null;
  } catch {
    return null;
  }
}

/**
 * Makes the calling worker thread `offset` nicer than it started (it inherits its creator's nice),
 * capped at 19. Only unprivileged changes: a thread may always lower its own priority. Refuses on
 * the main thread, whose later threads would inherit the lower priority.
 */
export function lowerWorkerThreadPriority(offset: number): ThreadPriorityResult {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_NICE) {
    throw new RangeError(`nice offset must be an integer in [0, ${MAX_NICE}] (got ${offset})`);
  }
  if (isMainThread) return { applied: false, reason: "not a worker thread: the driver keeps its priority" };
  const threadId = currentOsThreadId();
  if (threadId === null) return { applied: false, reason: "no per-thread priority here (/proc/thread-self missing)" };
  try {
    const niceBefore = getPriority(threadId);
    const nice = Math.min(MAX_NICE, niceBefore + offset);
    setPriority(threadId, nice);
    return { applied: true, threadId, niceBefore, nice };
  } catch (err) {
    return { applied: false, reason: (err as Error).message };
  }
}

/** The nice value a worker started by this process's main thread (its id is the pid) has after lowering by `offset`. */
export function expectedWorkerNice(offset: number): number {
  return Math.min(MAX_NICE, getPriority(process.pid) + offset);
}

/**
 * The nice value of each of this process's Node worker threads (Node names them "WorkerThread"),
 * for tests and diagnostics; empty where /proc is not there.
 */
export function workerThreadNiceValues(): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() !== "WorkerThread") return [];
      return [getPriority(Number(tid))];
    } catch {
      return []; // the thread ended while we read
    }
  });
}

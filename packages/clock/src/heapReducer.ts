// Gives a worker thread's heap back after a burst, so the process does not keep a flood's memory.
// Under a valid-signature flood the network worker's gossipsub state (seen ids, delivery records,
// the message cache, pending validations) lives for its TTL, so objects survive the young
// generation and die in the old one. V8 let that worker's heap grow to 450-500 MiB committed and,
// once the flood stopped, allocated too slowly to reach its next collection: 60 s later it still
// held 220-350 MiB "in use", nearly all garbage. A HeapReducer asks for a full collection whenever
// the heap in use is past a floor, at most once per interval. Only a worker thread runs one (the
// network worker; a BLS worker's heap peaks near 21 MiB and needs none): a pause there never lands
// on the slot clock's thread.

import { performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";

/**
 * Below this much heap in use a worker is left to V8's own heuristics: the network worker holds
 * ~30 MiB idle, and under a 5,000 msgs/s flood ~75 MiB live with 100-220 MiB in use between
 * collections, so it is collected only then.
 */
export const HEAP_REDUCER_FLOOR_BYTES = 128 * 2 ** 20;
/**
 * How often the worker looks, so at most one collection per period: a full collection of a
 * 200 MiB heap takes tens of milliseconds of the worker's thread, so one every 10 s keeps its cost
 * near 1% of that thread even under a flood (when the heap stays past the floor).
 */
export const HEAP_REDUCER_INTERVAL_MS = 10_000;
/**
 * A thread busier than this share of the last interval is still working through a burst, so its
 * freed pages are left pooled for it to reuse: a last-resort collection compacts the whole heap in
 * one pause, and a busy thread would only grow back. The network worker's event loop was busy
 * 72-95% of each 10 s under a 5,450 msgs/s valid flood and 2-10% on the same devnet without it
 * (docs/performance.md).
 */
export const HEAP_REDUCER_QUIET_BUSY_SHARE = 0.25;

/** What a check reads: the heap in use, the heap V8 has committed, and how busy the thread was. */
export interface HeapReading {
  usedBytes: number;
  committedBytes: number;
  /** Share (0-1) of the time since the last check the thread's event loop was busy. */
  busyShare: number;
}

/** A reducer's memory between checks. */
export interface HeapReducerState {
  /** A burst has grown the heap and its pages have not been given back yet. */
  inBurst: boolean;
  /** The heap committed right after the last release (0 before any). */
  committedAfterRelease: number;
}

export type HeapReducerAction = "collect" | "release" | "wait";

/**
 * The decision, apart from V8. Past the floor in use: a full collection. Otherwise, once a burst has
 * grown the heap (its use passed the floor, or V8 committed a floor's worth more than the last
 * release left), one last-resort collection as soon as the thread is quiet. Reading the committed
 * heap matters: once a flood's live set is small, V8's own collections can keep the heap in use
 * under the floor at every check while it still commits 200 MiB, and a reducer that only looked
 * at use never saw a burst and never gave those pages back.
 */
export function heapReducerAction(
  reading: HeapReading,
  state: HeapReducerState,
  floorBytes = HEAP_REDUCER_FLOOR_BYTES,
): HeapReducerAction {
  if (reading.usedBytes >= floorBytes) return "collect";
  const grew = reading.committedBytes >= state.committedAfterRelease + floorBytes;
  if ((state.inBurst || grew) && reading.busyShare < HEAP_REDUCER_QUIET_BUSY_SHARE) return "release";
  return "wait";
}

/** Node's `gc` (with --expose-gc): `flavor: "last-resort"` also gives V8's pooled pages back to the OS. */
export type ExposedGc = (options?: { type?: "major" | "minor"; flavor?: "regular" | "last-resort" }) => unknown;

/** `globalThis.gc` when the process runs with --expose-gc (NODE_RUNTIME_FLAGS), else undefined. */
export function exposedGc(): ExposedGc | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? (gc as ExposedGc) : undefined;
}

/** This thread's heap, and its event loop's busy share since the previous call. */
export function heapReader(): () => HeapReading {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const busyShare = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const heap = getHeapStatistics();
    return { usedBytes: heap.used_heap_size, committedBytes: heap.total_heap_size, busyShare };
  };
}

/**
 * Checks every HEAP_REDUCER_INTERVAL_MS and acts as heapReducerAction says. A last-resort collection
 * also shrinks the heap and releases V8's page pool: after a 90 s valid flood the network worker's
 * regular collections had left 113 MiB committed and 145 MiB of freed pages pooled, which the
 * process kept resident. One per burst, on the worker's own thread (~10-200 ms). Without
 * --expose-gc it does nothing (`enabled` false) and V8 keeps its heuristics.
 */
export class HeapReducer {
  /** Collections asked for while past the floor, and last-resort ones after a burst. */
  collections = 0;
  releases = 0;
  private readonly state: HeapReducerState = { inBurst: false, committedAfterRelease: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly gc: ExposedGc | undefined;
  private readonly read: () => HeapReading;
  private readonly floorBytes: number;

  constructor(gc = exposedGc(), read = heapReader(), floorBytes = HEAP_REDUCER_FLOOR_BYTES) {
    this.gc = gc;
    this.read = read;
    this.floorBytes = floorBytes;
  }

  get enabled(): boolean {
    return this.gc !== undefined;
  }

  start(intervalMs = HEAP_REDUCER_INTERVAL_MS): void {
    if (this.gc === undefined || this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Something other than the heap's size says a burst happened (the network worker: its gossip
   * boundary shed a flood), so the first quiet check gives the pages back. Needed once the heap
   * itself stays small under a flood: V8 still pools the pages it freed, which the process keeps
   * resident and getHeapStatistics does not show.
   */
  markBurst(): void {
    this.state.inBurst = true;
  }

  check(): void {
    if (this.gc === undefined) return;
    const reading = this.read();
    const action = heapReducerAction(reading, this.state, this.floorBytes);
    if (action === "collect") {
      this.gc({ type: "major" });
      this.collections++;
      this.state.inBurst = true;
    } else if (action === "release") {
      this.gc({ type: "major", flavor: "last-resort" });
      this.releases++;
      this.state.inBurst = false;
      this.state.committedAfterRelease = this.read().committedBytes;
    }
  }
}

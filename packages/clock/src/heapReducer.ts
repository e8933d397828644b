// Gives a worker thread's heap back after a burst, so the process does not keep a flood's memory.
// Under a valid-signature flood the network worker's gossipsub state (seen ids, delivery records,
// the message cache, pending validations) lives for its TTL, so objects survive the young
// generation and die in the old one. V8 let that worker's heap grow to 450-500 MiB committed and,
// once the flood stopped, allocated too slowly to reach its next collection: 60 s later it still
// held 220-350 MiB "in use", nearly all garbage. A HeapReducer asks for a full collection whenever
// the heap in use is past a floor, at most once per interval. Only a worker thread runs one (the
// network worker; a BLS worker's heap peaks near 21 MiB and needs none): a pause there never lands
// on the slot clock's thread.

import { getHeapStatistics } from "node:v8";

/**
 * Below this much heap in use a worker is left to V8's own heuristics: the network worker holds
 * ~30 MiB idle and ~120-240 MiB live under a 5,000 msgs/s flood, so it is collected only then.
 */
export const HEAP_REDUCER_FLOOR_BYTES = 128 * 2 ** 20;
/**
 * How often the worker looks, so at most one collection per period: a full collection of a
 * 200 MiB heap takes tens of milliseconds of the worker's thread, so one every 10 s keeps its cost
 * near 1% of that thread even under a flood (when the heap stays past the floor).
 */
export const HEAP_REDUCER_INTERVAL_MS = 10_000;

/** The decision, apart from V8: collect when the heap in use is past the floor. */
export function shouldCollectHeap(usedBytes: number, floorBytes = HEAP_REDUCER_FLOOR_BYTES): boolean {
  return usedBytes >= floorBytes;
}

/** Node's `gc` (with --expose-gc): `flavor: "last-resort"` also gives V8's pooled pages back to the OS. */
export type ExposedGc = (options?: { type?: "major" | "minor"; flavor?: "regular" | "last-resort" }) => unknown;

/** `globalThis.gc` when the process runs with --expose-gc (NODE_RUNTIME_FLAGS), else undefined. */
export function exposedGc(): ExposedGc | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? (gc as ExposedGc) : undefined;
}

/**
 * Checks every HEAP_REDUCER_INTERVAL_MS. While the heap in use is past the floor (a burst) it asks
 * for a full collection; at the first check below the floor after a burst it asks for one
 * last-resort collection, which also shrinks the heap and releases V8's page pool: after a 90 s
 * valid flood the network worker's regular collections had left 113 MiB committed and 145 MiB of
 * freed pages pooled, which the process kept resident. One per burst, on the worker's own thread
 * (~10-100 ms). Without --expose-gc it does nothing (`enabled` false) and V8 keeps its heuristics.
 */
export class HeapReducer {
  /** Collections asked for while past the floor, and last-resort ones after a burst. */
  collections = 0;
  releases = 0;
  private inBurst = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly gc: ExposedGc | undefined;
  private readonly readUsedBytes: () => number;
  private readonly floorBytes: number;

  constructor(
    gc = exposedGc(),
    readUsedBytes = () => getHeapStatistics().used_heap_size,
    floorBytes = HEAP_REDUCER_FLOOR_BYTES,
  ) {
    this.gc = gc;
    this.readUsedBytes = readUsedBytes;
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

  check(): void {
    if (this.gc === undefined) return;
    if (shouldCollectHeap(this.readUsedBytes(), this.floorBytes)) {
      this.gc({ type: "major" });
      this.collections++;
      this.inBurst = true;
    } else if (this.inBurst) {
      this.gc({ type: "major", flavor: "last-resort" });
      this.releases++;
      this.inBurst = false;
    }
  }
}

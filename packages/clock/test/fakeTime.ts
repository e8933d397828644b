import type { TimerApi, TimerHandle } from "../src/index.ts";

interface Pending {
  id: number;
  callback: () => void;
  dueMs: number;
  delayMs: number;
}

/** Hand-driven wall clock and timer queue: tests decide when (and how late) each timer fires. */
export class FakeTime {
  nowMs: number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  readonly scheduledDelays: number[] = [];

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  readonly now = (): number => this.nowMs;

  readonly timers: TimerApi = {
    setTimeout: (callback: () => void, delayMs: number): TimerHandle => {
      const id = this.nextId++;
      this.pending.set(id, { id, callback, dueMs: this.nowMs + delayMs, delayMs });
      this.scheduledDelays.push(delayMs);
      return id;
    },
    clearTimeout: (handle: TimerHandle): void => {
      if (typeof handle === "number") this.pending.delete(handle);
    },
  };

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Due time of the only pending timer; fails the test if there is not exactly one. */
  onlyDueMs(): number {
    if (this.pending.size !== 1) throw new Error(`expected exactly one pending timer, found ${this.pending.size}`);
    return [...this.pending.values()][0]!.dueMs;
  }

  /** Fire the earliest pending timer with the clock set to `atMs` (default: its due time). */
  fireNext(atMs?: number): void {
    const first = [...this.pending.values()].sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
    if (first === undefined) throw new Error("no pending timer");
    this.pending.delete(first.id);
    this.nowMs = atMs ?? first.dueMs;
    first.callback();
  }
}

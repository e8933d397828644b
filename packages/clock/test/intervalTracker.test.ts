import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ClockOptionsError,
  DEFAULT_MAX_CATCH_UP_SLOTS,
  type DueInterval,
  IntervalTracker,
  SlotClock,
} from "../src/index.ts";

const GENESIS_SEC = 1_700_000_000;
const G = GENESIS_SEC * 1000;

function setup(options: { firstInterval: number; maxCatchUp?: number; slotDurationMs?: number }) {
  const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, slotDurationMs: options.slotDurationMs });
  const tracker = new IntervalTracker({ clock, firstInterval: options.firstInterval, maxCatchUp: options.maxCatchUp });
  return { clock, tracker };
}

const ids = (due: DueInterval[]): number[] => due.map((d) => d.interval);

describe("IntervalTracker basics", () => {
  it("yields an interval once its boundary passes, exactly on the boundary", () => {
    const { tracker } = setup({ firstInterval: 10 });
    assert.deepEqual(tracker.due(G + 10 * 800 - 1), []);
    const due = tracker.due(G + 10 * 800);
    assert.deepEqual(due, [
      { interval: 10, slot: 2, intervalInSlot: 0, boundaryMs: G + 8000, lateMs: 0, caughtUp: false, skippedBefore: 0 },
    ]);
    assert.equal(tracker.lastServicedInterval, 10);
    assert.equal(tracker.nextInterval, 11);
  });

  it("does not replay history before firstInterval", () => {
    const { tracker } = setup({ firstInterval: 1000 });
    const due = tracker.due(G + 1000 * 800 + 5);
    assert.deepEqual(ids(due), [1000]);
    assert.equal(due[0]!.lateMs, 5);
  });

  it("never yields the same interval twice across calls", () => {
    const { tracker } = setup({ firstInterval: 0 });
    const seen: number[] = [];
    for (let t = G; t < G + 20 * 800; t += 137) seen.push(...ids(tracker.due(t)));
    const expected = Array.from({ length: 20 }, (_, i) => i);
    assert.deepEqual(seen, expected);
    assert.deepEqual(tracker.due(G + 19 * 800 + 799), []);
  });

  it("uses the clock's now when called without an argument", () => {
    let now = G + 800;
    const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, now: () => now });
    const tracker = new IntervalTracker({ clock, firstInterval: clock.currentInterval() });
    assert.deepEqual(ids(tracker.due()), [1]);
    now += 800;
    assert.deepEqual(ids(tracker.due()), [2]);
    assert.deepEqual(tracker.due(), []);
  });
});

describe("IntervalTracker catch-up", () => {
  it("after a 3-interval stall yields the missed intervals in order, then the current one", () => {
    const { tracker } = setup({ firstInterval: 10 });
    assert.deepEqual(ids(tracker.due(G + 10 * 800 + 3)), [10]);
    // Intervals 11, 12, 13 pass without a call; we wake 250 ms into interval 14.
    const now = G + 14 * 800 + 250;
    const due = tracker.due(now);
    assert.deepEqual(ids(due), [11, 12, 13, 14]);
    assert.deepEqual(
      due.map((d) => d.caughtUp),
      [true, true, true, false],
    );
    assert.deepEqual(
      due.map((d) => d.lateMs),
      [2650, 1850, 1050, 250],
    );
    assert.deepEqual(
      due.map((d) => [d.slot, d.intervalInSlot]),
      [
        [2, 1],
        [2, 2],
        [2, 3],
        [2, 4],
      ],
    );
    assert.ok(due.every((d) => d.skippedBefore === 0));
    assert.deepEqual(tracker.due(now + 1), []);
    assert.deepEqual(ids(tracker.due(G + 15 * 800)), [15]);
  });

  it("crosses slot boundaries in order", () => {
    const { tracker } = setup({ firstInterval: 3 });
    const due = tracker.due(G + 7 * 800);
    assert.deepEqual(
      due.map((d) => `${d.slot}/${d.intervalInSlot}`),
      ["0/3", "0/4", "1/0", "1/1", "1/2"],
    );
  });
});

describe("IntervalTracker with a clock that steps backwards", () => {
  it("yields nothing and never duplicates", () => {
    const { tracker } = setup({ firstInterval: 0 });
    assert.deepEqual(ids(tracker.due(G + 5 * 800 + 10)), [0, 1, 2, 3, 4, 5]);
    // NTP steps the wall clock back two intervals.
    assert.deepEqual(tracker.due(G + 3 * 800 + 10), []);
    assert.deepEqual(tracker.due(G + 5 * 800 + 700), []);
    // Wall time catches up: only genuinely new intervals appear.
    assert.deepEqual(ids(tracker.due(G + 6 * 800)), [6]);
    // A step back to before genesis is also harmless.
    assert.deepEqual(tracker.due(G - 60_000), []);
    assert.deepEqual(ids(tracker.due(G + 7 * 800)), [7]);
  });

  it("ignores a non-finite time and counts it", () => {
    const { tracker } = setup({ firstInterval: 0 });
    assert.deepEqual(tracker.due(Number.NaN), []);
    assert.deepEqual(tracker.due(Number.POSITIVE_INFINITY), []);
    assert.equal(tracker.invalidNowCount, 2);
    assert.deepEqual(ids(tracker.due(G)), [0]);
  });
});

describe("IntervalTracker before genesis", () => {
  it("raises a negative start to 0 and yields nothing until genesis", () => {
    const { clock, tracker } = setup({ firstInterval: -12 });
    assert.equal(clock.intervalAt(G - 5000) < 0, true);
    assert.equal(tracker.nextInterval, 0);
    assert.deepEqual(tracker.due(G - 5000), []);
    assert.deepEqual(tracker.due(G - 1), []);
    const due = tracker.due(G);
    assert.deepEqual(ids(due), [0]);
    assert.equal(due[0]!.lateMs, 0);
  });
});

describe("IntervalTracker replay cap", () => {
  it("replays only the newest maxCatchUp intervals and reports the skipped ones", () => {
    const { tracker } = setup({ firstInterval: 0, maxCatchUp: 4 });
    // 0..9 are due: the oldest 6 are skipped.
    const due = tracker.due(G + 9 * 800 + 1);
    assert.deepEqual(ids(due), [6, 7, 8, 9]);
    assert.deepEqual(
      due.map((d) => d.skippedBefore),
      [6, 0, 0, 0],
    );
    assert.deepEqual(
      due.map((d) => d.caughtUp),
      [true, true, true, false],
    );
    assert.equal(tracker.skippedTotal, 6);
    // Skipped intervals are never yielded later either.
    assert.deepEqual(ids(tracker.due(G + 10 * 800)), [10]);
    assert.equal(tracker.skippedTotal, 6);
  });

  it("does not skip when the backlog fits exactly", () => {
    const { tracker } = setup({ firstInterval: 0, maxCatchUp: 4 });
    assert.deepEqual(ids(tracker.due(G + 3 * 800)), [0, 1, 2, 3]);
    assert.equal(tracker.skippedTotal, 0);
  });

  it("defaults to a generous, bounded cap of DEFAULT_MAX_CATCH_UP_SLOTS slots", () => {
    const { tracker } = setup({ firstInterval: 0 });
    const cap = DEFAULT_MAX_CATCH_UP_SLOTS * 5;
    assert.equal(tracker.maxCatchUp, cap);
    assert.ok(cap >= 10, "a short stall must replay in full");
    // One hour of suspend: the result stays bounded.
    const due = tracker.due(G + 3_600_000);
    assert.equal(due.length, cap);
    assert.equal(due.at(-1)!.interval, 4500);
    assert.equal(due[0]!.skippedBefore, 4501 - cap);
  });

  it("rejects an invalid cap or start", () => {
    const clock = new SlotClock({ genesisTimeSec: 0 });
    for (const maxCatchUp of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new IntervalTracker({ clock, firstInterval: 0, maxCatchUp }),
        (err: unknown) => err instanceof ClockOptionsError && err.option === "maxCatchUp",
      );
    }
    for (const firstInterval of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new IntervalTracker({ clock, firstInterval }),
        (err: unknown) => err instanceof ClockOptionsError && err.option === "firstInterval",
      );
    }
  });
});

describe("IntervalTracker with 1-second slots", () => {
  it("steps in 200 ms intervals", () => {
    const { tracker } = setup({ firstInterval: 0, slotDurationMs: 1000 });
    const due = tracker.due(G + 1000);
    assert.deepEqual(ids(due), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(
      due.map((d) => d.lateMs),
      [1000, 800, 600, 400, 200, 0],
    );
    assert.deepEqual(due.at(-1)!.slot, 1);
    assert.deepEqual(ids(tracker.due(G + 1199)), []);
    assert.deepEqual(ids(tracker.due(G + 1200)), [6]);
  });
});

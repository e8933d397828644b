import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ClockOptionsError,
  type IntervalTick,
  IntervalTimer,
  IntervalTracker,
  MAX_TIMER_DELAY_MS,
  SlotClock,
  type TimerApi,
} from "../src/index.ts";
import { FakeTime } from "./fakeTime.ts";

const GENESIS_SEC = 1_700_000_000;
const G = GENESIS_SEC * 1000;

function setup(startMs: number, slotDurationMs?: number) {
  const time = new FakeTime(startMs);
  const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, slotDurationMs, now: time.now });
  const ticks: IntervalTick[] = [];
  const errors: unknown[] = [];
  const timer = new IntervalTimer({
    clock,
    timers: time.timers,
    onTick: (tick) => {
      ticks.push(tick);
    },
    onError: (error) => errors.push(error),
  });
  return { time, clock, timer, ticks, errors };
}

describe("IntervalTimer scheduling", () => {
  it("arms one timeout to the next boundary and ticks on time", () => {
    const { time, timer, ticks } = setup(G + 5 * 800 + 300);
    timer.start();
    timer.start(); // idempotent: still one pending timeout
    assert.equal(time.pendingCount, 1);
    assert.equal(time.onlyDueMs(), G + 6 * 800);
    assert.deepEqual(time.scheduledDelays, [500]);
    time.fireNext();
    assert.deepEqual(ticks, [
      { interval: 6, boundaryMs: G + 4800, wokeAtMs: G + 4800, lateMs: 0, boundariesPassed: 0 },
    ]);
    assert.equal(time.onlyDueMs(), G + 7 * 800);
    assert.equal(timer.tickCount, 1);
  });

  it("reschedules from the wall clock after a late wake-up, so drift cannot build up", () => {
    const { time, timer, ticks } = setup(G);
    timer.start();
    // Every wake-up is late by a different amount; each next due time is still an exact boundary.
    const lateness = [0, 300, 799, 1, 450];
    for (const [k, late] of lateness.entries()) {
      const boundary = G + (k + 1) * 800;
      assert.equal(time.onlyDueMs(), boundary);
      time.fireNext(boundary + late);
      assert.equal(ticks.at(-1)!.interval, k + 1);
      assert.equal(ticks.at(-1)!.lateMs, late);
      assert.equal(ticks.at(-1)!.boundariesPassed, 0);
    }
    assert.equal(time.onlyDueMs(), G + 6 * 800);
    assert.deepEqual(time.scheduledDelays, [800, 800, 500, 1, 799, 350]);
  });

  it("reports boundaries passed during a long stall and wakes at the next real boundary", () => {
    const { time, timer, ticks } = setup(G + 100);
    timer.start();
    // Scheduled for interval 1 (G+800) but the process was frozen until 2.5 intervals later.
    time.fireNext(G + 800 + 2000);
    assert.equal(ticks.length, 1);
    assert.deepEqual(ticks[0], {
      interval: 1,
      boundaryMs: G + 800,
      wokeAtMs: G + 2800,
      lateMs: 2000,
      boundariesPassed: 2,
    });
    assert.equal(time.onlyDueMs(), G + 4 * 800);
  });

  it("re-arms for the same boundary instead of ticking early when the clock stepped back", () => {
    const { time, timer, ticks } = setup(G + 10);
    timer.start();
    time.fireNext(G + 500); // timer fired but the wall clock now says 300 ms before the boundary
    assert.equal(ticks.length, 0);
    assert.equal(timer.earlyWakeups, 1);
    assert.equal(time.onlyDueMs(), G + 800);
    time.fireNext();
    assert.equal(ticks.length, 1);
    assert.equal(ticks[0]!.interval, 1);
    assert.equal(ticks[0]!.lateMs, 0);
  });

  it("waits for genesis when started before it, clamping very long delays", () => {
    const near = setup(G - 10_000);
    near.timer.start();
    assert.equal(near.time.onlyDueMs(), G);
    near.time.fireNext();
    assert.deepEqual(
      near.ticks.map((t) => t.interval),
      [0],
    );

    const far = setup(G - 40 * 86_400_000);
    far.timer.start();
    assert.deepEqual(far.time.scheduledDelays, [MAX_TIMER_DELAY_MS]);
    far.time.fireNext();
    assert.equal(far.ticks.length, 0);
    assert.equal(far.time.onlyDueMs(), G);
    far.time.fireNext();
    assert.deepEqual(
      far.ticks.map((t) => t.interval),
      [0],
    );
  });

  it("works with 1-second slots (200 ms intervals)", () => {
    const { time, timer, ticks } = setup(G + 1050, 1000);
    timer.start();
    assert.equal(time.onlyDueMs(), G + 1200);
    time.fireNext();
    time.fireNext(G + 1450);
    time.fireNext();
    assert.deepEqual(
      ticks.map((t) => [t.interval, t.lateMs]),
      [
        [6, 0],
        [7, 50],
        [8, 0],
      ],
    );
  });
});

describe("IntervalTimer lifecycle and errors", () => {
  it("stop clears the pending timeout", () => {
    const { time, timer, ticks } = setup(G);
    timer.start();
    timer.stop();
    assert.equal(time.pendingCount, 0);
    assert.equal(timer.isRunning, false);
    timer.start();
    assert.equal(time.pendingCount, 1);
    assert.equal(timer.isRunning, true);
    timer.stop();
    assert.equal(ticks.length, 0);
  });

  it("a callback already in flight when stop() ran neither ticks nor re-arms", () => {
    const time = new FakeTime(G);
    const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, now: time.now });
    // clearTimeout that loses the race: the callback still runs.
    const racy: TimerApi = { setTimeout: time.timers.setTimeout, clearTimeout: () => {} };
    let count = 0;
    const timer = new IntervalTimer({ clock, timers: racy, onTick: () => void count++ });
    timer.start();
    timer.stop();
    time.fireNext();
    assert.equal(count, 0);
    assert.equal(time.pendingCount, 0);
  });

  it("can stop from inside onTick", () => {
    const time = new FakeTime(G);
    const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, now: time.now });
    let count = 0;
    const timer: IntervalTimer = new IntervalTimer({
      clock,
      timers: time.timers,
      onTick: () => {
        count++;
        timer.stop();
      },
    });
    timer.start();
    time.fireNext();
    assert.equal(count, 1);
    assert.equal(time.pendingCount, 0);
  });

  it("keeps running when onTick throws or rejects, routing the error to onError", async () => {
    const time = new FakeTime(G);
    const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, now: time.now });
    const errors: unknown[] = [];
    let calls = 0;
    const timer = new IntervalTimer({
      clock,
      timers: time.timers,
      onTick: () => {
        calls++;
        if (calls === 1) throw new Error("sync boom");
        return Promise.reject(new Error("async boom"));
      },
      onError: (e) => errors.push(e),
    });
    timer.start();
    time.fireNext();
    assert.equal(time.pendingCount, 1);
    time.fireNext();
    assert.equal(time.pendingCount, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ["sync boom", "async boom"],
    );
    timer.stop();
  });

  it("retries later when the clock returns a non-finite time", () => {
    const time = new FakeTime(G);
    let broken = false;
    const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, now: () => (broken ? Number.NaN : time.now()) });
    const ticks: IntervalTick[] = [];
    const timer = new IntervalTimer({ clock, timers: time.timers, onTick: (t) => void ticks.push(t) });
    timer.start();
    broken = true;
    time.fireNext();
    assert.equal(timer.invalidNowCount, 1);
    assert.equal(time.pendingCount, 1);
    broken = false;
    time.fireNext(G + 900);
    assert.deepEqual(
      ticks.map((t) => [t.interval, t.lateMs]),
      [[1, 100]],
    );
  });

  it("rejects a missing onTick", () => {
    const clock = new SlotClock({ genesisTimeSec: 0 });
    assert.throws(
      () => new IntervalTimer({ clock, onTick: undefined as never }),
      (err: unknown) => err instanceof ClockOptionsError && err.option === "onTick",
    );
  });
});

describe("IntervalTimer with IntervalTracker", () => {
  it("services every interval exactly once despite late and merged wake-ups", () => {
    const time = new FakeTime(G + 50);
    const clock = new SlotClock({ genesisTimeSec: GENESIS_SEC, now: time.now });
    const tracker = new IntervalTracker({ clock, firstInterval: clock.currentInterval() + 1 });
    const serviced: number[] = [];
    const timer = new IntervalTimer({
      clock,
      timers: time.timers,
      onTick: () => {
        for (const d of tracker.due()) serviced.push(d.interval);
      },
    });
    timer.start();
    time.fireNext(); // 1 on time
    time.fireNext(G + 2 * 800 + 799); // 2, late
    time.fireNext(G + 6 * 800 + 10); // 3 scheduled, woke in 6: catch up 3..6
    time.fireNext(G + 6 * 800 + 20); // early wake (clock stepped back): no tick
    time.fireNext(); // 7
    timer.stop();
    assert.deepEqual(serviced, [1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("IntervalTimer on real timers", () => {
  it("fires at a boundary and never before it", async () => {
    // 100 ms slots of five 20 ms intervals, genesis at the epoch: boundaries are multiples of 20 ms.
    const clock = new SlotClock({ genesisTimeSec: 0, slotDurationMs: 100 });
    let timer: IntervalTimer | undefined;
    const first = new Promise<{ tick: IntervalTick; observedMs: number }>((resolve) => {
      timer = new IntervalTimer({
        clock,
        onTick: (tick) => resolve({ tick, observedMs: Date.now() }),
      });
      timer.start();
    });
    let deadline: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error("timer did not fire within 5 s")), 5000);
    });
    try {
      const { tick, observedMs } = await Promise.race([first, timeout]);
      assert.equal(tick.boundaryMs % 20, 0);
      assert.equal(tick.boundaryMs, clock.startMsOfInterval(tick.interval));
      assert.ok(observedMs >= tick.boundaryMs, `woke ${tick.boundaryMs - observedMs} ms early`);
      assert.ok(tick.lateMs >= 0);
    } finally {
      clearTimeout(deadline);
      timer?.stop();
    }
  });
});

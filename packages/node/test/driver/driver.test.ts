import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IntervalTracker, SlotClock } from "@metronome/clock";
import { Driver, type DriverWork } from "../../src/driver/driver.ts";

/**
 * A queue of `items` work items where each item costs `costMs` of (fake) time: the test controls
 * time, so tick lateness is exact and the test cannot flake.
 */
function setup(opts: {
  items: number;
  costMs: number;
  maxBatch: number;
  onPass?: (batchSize: number, durationMs: number, idle: boolean) => void;
}) {
  let nowMs = 1_000_000;
  const clock = new SlotClock({ genesisTimeSec: nowMs / 1000, slotDurationMs: 4000, now: () => nowMs });
  const tracker = new IntervalTracker({ clock, firstInterval: 1 });
  let remaining = opts.items;
  const work: DriverWork = {
    runBatch(max) {
      const n = Math.min(max, remaining);
      remaining -= n;
      nowMs += n * opts.costMs;
      return n;
    },
    hasWork: () => remaining > 0,
  };
  const ticks: { interval: number; lateMs: number }[] = [];
  const driver = new Driver({
    clock,
    tracker,
    work,
    maxBatch: opts.maxBatch,
    onPass: opts.onPass,
    hooks: {
      onInterval: (due) => ticks.push({ interval: due.interval, lateMs: due.lateMs }),
      onError: (err) => {
        throw err;
      },
    },
  });
  return {
    driver,
    ticks,
    remaining: () => remaining,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe("driver", () => {
  it("ticks on time while a queue holds 100k items: lateness never exceeds one batch", () => {
    const t = setup({ items: 100_000, costMs: 0.5, maxBatch: 64 });
    // Run until the queue drains (100k * 0.5 ms = 50 s of fake time = 62 intervals).
    while (t.remaining() > 0) t.driver.pass();
    assert.ok(t.ticks.length >= 60, `only ${t.ticks.length} ticks`);
    const maxLate = Math.max(...t.ticks.map((x) => x.lateMs));
    assert.ok(maxLate <= 64 * 0.5, `a tick was ${maxLate} ms late; one batch is 32 ms`);
    // Every interval ticked exactly once, in order.
    const first = t.ticks[0]?.interval ?? 0;
    assert.deepEqual(
      t.ticks.map((x) => x.interval),
      t.ticks.map((_, i) => first + i),
    );
    assert.equal(t.driver.stats.maxBatchSize, 64);
    assert.equal(t.driver.stats.intervalsMissed, 0);
  });

  it("without the batch bound the same queue starves the tick (the ablation)", () => {
    const t = setup({ items: 100_000, costMs: 0.5, maxBatch: Number.POSITIVE_INFINITY });
    t.driver.pass();
    assert.equal(t.remaining(), 0);
    const late = t.ticks.map((x) => x.lateMs);
    assert.ok(Math.max(...late) > 10_000, `expected a starved tick, got ${Math.max(...late)} ms`);
  });

  it("reports a pass as idle only when it handled nothing and ran no tick", () => {
    const passes: { batch: number; idle: boolean }[] = [];
    const t = setup({ items: 3, costMs: 0, maxBatch: 2, onPass: (batch, _ms, idle) => passes.push({ batch, idle }) });
    t.driver.pass(); // 2 items
    t.driver.pass(); // 1 item
    t.driver.pass(); // nothing, no boundary passed: idle
    t.advance(800);
    t.driver.pass(); // nothing, but a tick: not idle
    assert.deepEqual(passes, [
      { batch: 2, idle: false },
      { batch: 1, idle: false },
      { batch: 0, idle: true },
      { batch: 0, idle: false },
    ]);
  });

  it("an idle driver still ticks every interval in order and counts passes", () => {
    const t = setup({ items: 0, costMs: 0, maxBatch: 64 });
    for (let i = 0; i < 10; i++) {
      t.advance(800);
      t.driver.pass();
    }
    assert.equal(t.ticks.length, 10);
    assert.equal(t.driver.stats.passes, 10);
    assert.ok(t.ticks.every((x) => x.lateMs === 0));
  });

  it("a boundary crossed after the pass's due check is ticked at once, not an interval later", async () => {
    // 40 s slots: an interval is 8 s, so sleeping to the wrong boundary cannot pass the deadline.
    const clock0 = 10_000_000;
    let nowMs = clock0;
    const clock = new SlotClock({ genesisTimeSec: clock0 / 1000, slotDurationMs: 40_000, now: () => nowMs });
    const boundary = clock.startMsOfInterval(1);
    nowMs = boundary - 1;
    const ticks: number[] = [];
    const driver = new Driver({
      clock,
      tracker: new IntervalTracker({ clock, firstInterval: 1 }),
      maxBatch: 8,
      work: { runBatch: () => 0, hasWork: () => false },
      hooks: {
        onInterval: (due) => ticks.push(due.interval),
        // The boundary passes during the first pass, after its due check found nothing.
        afterPass: () => {
          nowMs = boundary;
        },
        onError: (err) => {
          throw err;
        },
      },
    });
    driver.start();
    try {
      assert.deepEqual(ticks, []);
      const deadline = performance.now() + 4000;
      while (ticks.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(ticks, [1], "interval 1 serviced well before the next boundary, 8 s later");
    } finally {
      await driver.stop();
    }
  });

  it("work queued from inside an I/O callback waits for the next event-loop turn, not a microtask", async () => {
    let nowMs = 20_000_000;
    const clock = new SlotClock({ genesisTimeSec: nowMs / 1000, slotDurationMs: 40_000, now: () => nowMs });
    nowMs = clock.startMsOfInterval(1) + 1;
    let queued = 0;
    const driver = new Driver({
      clock,
      tracker: new IntervalTracker({ clock, firstInterval: 1 }),
      maxBatch: 8,
      work: {
        runBatch: (max) => {
          const n = Math.min(max, queued);
          queued -= n;
          return n;
        },
        hasWork: () => queued > 0,
      },
      hooks: { onInterval: () => {}, onError: (err) => assert.fail(String(err)) },
    });
    driver.start(); // the first pass ticks interval 1 and the loop goes to sleep
    try {
      const passesAsleep = driver.stats.passes;
      // A network callback queues a message and notifies, then goes on with its own microtasks.
      queued = 1;
      driver.notify();
      for (let i = 0; i < 10; i++) await Promise.resolve();
      assert.equal(driver.stats.passes, passesAsleep, "no pass ran inside the callback's microtasks");
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(driver.stats.passes > passesAsleep, "the next turn ran the pass");
      assert.equal(queued, 0);
    } finally {
      await driver.stop();
    }
  });

  it("an error in a batch or a tick is reported and the loop goes on", () => {
    let nowMs = 5_000_000;
    const clock = new SlotClock({ genesisTimeSec: nowMs / 1000, now: () => nowMs });
    const errors: string[] = [];
    const driver = new Driver({
      clock,
      tracker: new IntervalTracker({ clock, firstInterval: 1 }),
      maxBatch: 8,
      work: {
        runBatch: () => {
          throw new Error("bad batch");
        },
        hasWork: () => true,
      },
      hooks: {
        onInterval: () => {
          throw new Error("bad tick");
        },
        onError: (_err, where) => errors.push(where),
      },
    });
    nowMs += 800;
    driver.pass();
    assert.deepEqual(errors, ["batch", "interval 1"]);
    assert.equal(driver.stats.ticks, 1);
  });
});

// The late-tick split: the driver thread's scheduler times noted shortly before each boundary, and
// what they grew by when a tick runs late; and the timer that takes a note before every boundary,
// once each, however late it fires.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ThreadCpuTimes } from "@metronome/clock/threadCpuTimes";
import {
  startTickCpuSampling,
  TICK_CPU_SAMPLE_LEAD_MS,
  TickCpuWatch,
  type WatchTimers,
} from "../../src/node/tickCpuWatch.ts";

function watchWith(start: ThreadCpuTimes | null) {
  const state = { now: 0, times: start };
  const watch = new TickCpuWatch({ read: () => state.times, now: () => state.now });
  return { watch, state };
}

describe("TickCpuWatch", () => {
  it("splits the window since the note before the boundary into time on a CPU and waiting", () => {
    const { watch, state } = watchWith({ onCpuMs: 100, runQueueWaitMs: 40, timeslices: 10 });
    state.now = 980;
    watch.sample();
    state.now = 1_031;
    state.times = { onCpuMs: 104, runQueueWaitMs: 82, timeslices: 14 };
    assert.deepEqual(watch.explain(1_000), { windowMs: 51, onCpuMs: 4, cpuWaitMs: 42 });
  });

  it("says nothing when its note came after the boundary, or the kernel does not say", () => {
    const { watch, state } = watchWith({ onCpuMs: 1, runQueueWaitMs: 1, timeslices: 1 });
    assert.equal(watch.explain(1_000), null, "no note yet");
    state.now = 1_005;
    watch.sample();
    assert.equal(watch.explain(1_000), null, "a note taken after the boundary covers none of the lateness");
    state.now = 1_990;
    watch.sample();
    state.times = null;
    assert.equal(watch.explain(2_000), null);
    const silent = new TickCpuWatch({ read: () => null, now: () => 0 });
    silent.sample();
    assert.equal(silent.explain(10), null);
  });
});

/** Timers run by hand: `fire()` runs the one pending timeout (the sampler keeps at most one). */
function handTimers() {
  const pending: { fn: () => void; delay: number; id: number; unref: () => void }[] = [];
  let nextId = 1;
  const timers: WatchTimers = {
    setTimeout(fn, delay) {
      const entry = { fn, delay, id: nextId++, unref: () => {} };
      pending.push(entry);
      return entry;
    },
    clearTimeout(handle) {
      const i = pending.indexOf(handle as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return {
    timers,
    pending,
    fire() {
      const entry = pending.shift();
      assert.ok(entry, "a timeout is armed");
      entry.fn();
    },
  };
}

describe("startTickCpuSampling", () => {
  const INTERVAL_MS = 800;
  const nextBoundaryAfter = (ms: number) => (Math.floor(ms / INTERVAL_MS) + 1) * INTERVAL_MS;

  it("notes the times LEAD ms before every boundary, once per boundary, even when a timer fires late", () => {
    let now = 100;
    const noted: number[] = [];
    const watch = { sample: () => noted.push(now) } as unknown as TickCpuWatch;
    const { timers, pending, fire } = handTimers();
    const stop = startTickCpuSampling(watch, { now: () => now, nextBoundaryAfter }, timers);
    assert.equal(pending[0]?.delay, INTERVAL_MS - TICK_CPU_SAMPLE_LEAD_MS - 100);
    now = INTERVAL_MS - TICK_CPU_SAMPLE_LEAD_MS;
    fire();
    assert.equal(pending.length, 1);
    assert.equal(pending[0]?.delay, INTERVAL_MS, "on time: the next note is one interval later");
    // This timer fires 30 ms after its boundary (1600): the next note is for 2400, not 1600 again.
    now = 2 * INTERVAL_MS + 30;
    fire();
    assert.equal(pending[0]?.delay, 3 * INTERVAL_MS - TICK_CPU_SAMPLE_LEAD_MS - now);
    // Fired inside the lead of 2400: noted at once, and the next is for 3200.
    now = 3 * INTERVAL_MS - 5;
    fire();
    assert.equal(pending[0]?.delay, 4 * INTERVAL_MS - TICK_CPU_SAMPLE_LEAD_MS - now);
    assert.deepEqual(noted, [780, 1_630, 2_395]);
    stop();
    assert.equal(pending.length, 0, "stopping clears the armed timeout");
  });
});

// Event-loop delay as an operator reads it: how long the loop was blocked beyond its sampling
// interval, over the window since the previous scrape. A starved slot driver shows up here first.
//
// Why not perf_hooks.monitorEventLoopDelay directly: its reset() forgets when it last sampled, so the
// first delay after every reset is never recorded, and a stall that begins right after a scrape
// vanished from the next one (the test for this failed that way). Here the sampler keeps its own
// last-wake time, which a window reset does not touch, and records into a perf_hooks histogram.

import { createHistogram, performance, type RecordableHistogram } from "node:perf_hooks";
import type { Gauge } from "prom-client";

/** Sampling interval. A wake-up this much after the previous one counts as zero delay. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

export interface EventLoopDelaySampler {
  /** Writes p50/p99/max into the gauge and starts a new window. Keeps the last values if no sample arrived. */
  collectInto(gauge: Gauge<"quantile">): void;
  stop(): void;
}

export function startEventLoopDelaySampler(): EventLoopDelaySampler {
  const histogram: RecordableHistogram = createHistogram();
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const delayNs = (now - last - EVENT_LOOP_RESOLUTION_MS) * NS_PER_MS;
    last = now;
    // The histogram only takes integers >= 1; 1 ns stands for "on time".
    histogram.record(Math.max(1, Math.round(delayNs)));
  }, EVENT_LOOP_RESOLUTION_MS);
  // Measuring must never keep a process alive.
  timer.unref();

  let stopped = false;
  return {
    collectInto(gauge) {
      if (stopped || histogram.count === 0) return;
      gauge.set({ quantile: "0.5" }, toSeconds(histogram.percentile(50)));
      gauge.set({ quantile: "0.99" }, toSeconds(histogram.percentile(99)));
      gauge.set({ quantile: "1" }, toSeconds(histogram.max));
      histogram.reset();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
    },
  };
}

function toSeconds(ns: number): number {
  return ns <= 1 ? 0 : ns / NS_PER_S;
}

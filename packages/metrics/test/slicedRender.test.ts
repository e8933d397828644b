// The sliced render gives the same text as prom-client's, and lets a due timer run mid-scrape.
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import { createMetrics, renderMetricsInSlices } from "@metronome/metrics";

/**
 * Holds the thread until a just-scheduled 0 ms timer is due (node runs it no sooner than 1 ms
 * later), so whether it runs mid-render depends on the render yielding, not on how fast it is.
 */
function untilTimerDue(): void {
  const start = performance.now();
  while (performance.now() - start < 2);
}

describe("renderMetricsInSlices", () => {
  it("renders exactly what registry.metrics() renders", async () => {
    const m = createMetrics({ processMetrics: false });
    m.forkChoice.headSlot.set(12);
    m.runtime.gossipOutboundBufferBytes.set({ kind: "max_peer" }, 4096);
    // The event-loop sampler wakes every 10 ms and its collector writes a new window on each scrape,
    // so a slow machine got different delay figures in the two renders. Stopped, both read the same.
    m.close();
    assert.equal(await renderMetricsInSlices(m.registry, 7), await m.registry.metrics());
  });

  it("yields to the event loop between slices, so a due timer runs before the scrape ends", async () => {
    const m = createMetrics({ processMetrics: false });
    const metricCount = m.registry.getMetricsAsArray().length;
    assert.ok(metricCount > 32, `${metricCount} metrics: more than two slices`);
    let timerRanAt: "during" | "after" | null = null;
    let rendering = true;
    setTimeout(() => {
      timerRanAt = rendering ? "during" : "after";
    }, 0);
    untilTimerDue();
    await renderMetricsInSlices(m.registry, 4);
    rendering = false;
    assert.equal(timerRanAt, "during");
    // prom-client's own render keeps the loop until it is done.
    let ownTimer: "during" | "after" | null = null;
    rendering = true;
    setTimeout(() => {
      ownTimer = rendering ? "during" : "after";
    }, 0);
    untilTimerDue();
    const text = await m.registry.metrics();
    rendering = false;
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(text.length > 0);
    assert.equal(ownTimer, "after");
  });
});

// The flood bench's split of tick lateness between the node and the machine: the driver thread's
// time on a CPU and waiting for one (from the node's metrics), and the CPU the kernel's memory
// reclaim threads took (from /proc), per second of a period.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summarizeSamples } from "../src/periodSummary.ts";
import { extractSample } from "../src/probeSample.ts";
import { procReclaimCpuSeconds, reclaimThreadCpu } from "../src/targetProbe.ts";
import { probeSample } from "./probeSampleFixture.ts";

describe("flood probe: the machine's share", () => {
  it("counts kdamond and kswapd threads and nothing else", () => {
    const threads = [
      { comm: "kdamond.0", cpuSeconds: 40 },
      { comm: "kswapd0", cpuSeconds: 2 },
      { comm: "kworker/0:1", cpuSeconds: 9 },
      { comm: "node", cpuSeconds: 100 },
      { comm: "my-kdamond", cpuSeconds: 5 },
    ];
    assert.equal(reclaimThreadCpu(threads), 42);
  });

  it("reads the machine's reclaim threads from /proc (Linux)", { skip: process.platform !== "linux" }, () => {
    const seconds = procReclaimCpuSeconds();
    assert.ok(seconds !== null && seconds >= 0, `read ${seconds}`);
  });

  it("takes the driver thread's CPU and wait seconds from the node's metrics", () => {
    const text = [
      "metronome_driver_thread_cpu_seconds_total 12.5",
      "metronome_driver_thread_cpu_wait_seconds_total 3.25",
    ].join("\n");
    const sample = extractSample(text, null, { cpuSeconds: null, verifierCpuSeconds: null, reclaimCpuSeconds: 7 });
    assert.equal(sample.driverCpuSeconds, 12.5);
    assert.equal(sample.driverCpuWaitSeconds, 3.25);
    assert.equal(sample.reclaimCpuSeconds, 7);
  });

  it("takes the driver's scavenge and mark-compact pauses from prom-client's GC histogram", () => {
    const text = [
      'nodejs_gc_duration_seconds_sum{kind="minor"} 1.5',
      'nodejs_gc_duration_seconds_count{kind="minor"} 300',
      'nodejs_gc_duration_seconds_sum{kind="major"} 0.25',
      'nodejs_gc_duration_seconds_count{kind="major"} 2',
      'nodejs_gc_duration_seconds_sum{kind="incremental"} 9',
    ].join("\n");
    const sample = extractSample(text, null, { cpuSeconds: null, verifierCpuSeconds: null, reclaimCpuSeconds: null });
    assert.equal(sample.gcScavengeSeconds, 1.5);
    assert.equal(sample.gcScavenges, 300);
    assert.equal(sample.gcMarkCompactSeconds, 0.25);
    const s = summarizeSamples(
      "flood",
      [
        probeSample(0, { gcScavengeSeconds: 1, gcScavenges: 100, gcMarkCompactSeconds: 0 }),
        probeSample(10, { gcScavengeSeconds: 1.2, gcScavenges: 120, gcMarkCompactSeconds: 0.05 }),
      ],
      0,
      0,
    );
    assert.ok(Math.abs(s.driverScavengeMsPerSec - 20) < 1e-9, `${s.driverScavengeMsPerSec}`);
    assert.ok(Math.abs(s.driverScavengeMeanMs - 10) < 1e-9, `${s.driverScavengeMeanMs}`);
    assert.ok(Math.abs(s.driverMarkCompactMsPerSec - 5) < 1e-9, `${s.driverMarkCompactMsPerSec}`);
  });

  it("gives each as milliseconds per second of the period", () => {
    const s = summarizeSamples(
      "flood",
      [
        probeSample(0, { driverCpuSeconds: 10, driverCpuWaitSeconds: 2, reclaimCpuSeconds: 100 }),
        probeSample(20, { driverCpuSeconds: 11, driverCpuWaitSeconds: 2.5, reclaimCpuSeconds: 101.2 }),
      ],
      0,
      0,
    );
    assert.equal(s.driverOnCpuMsPerSec, 50);
    assert.equal(s.driverCpuWaitMsPerSec, 25);
    assert.ok(Math.abs(s.reclaimCpuMsPerSec - 60) < 1e-9);
    const unknown = summarizeSamples("flood", [probeSample(0), probeSample(10)], 0, 0);
    assert.ok(Number.isNaN(unknown.reclaimCpuMsPerSec), "no /proc figure: no rate, not a zero");
  });
});

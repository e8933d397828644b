import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getHeapStatistics } from "node:v8";
import { createMetrics, listMetricSpecs, type MetronomeMetrics } from "@metronome/metrics";
import { Counter, register as globalRegistry, Registry } from "prom-client";
import { type Family, parseExposition, seriesKey } from "./exposition.ts";
import { LEAN_METRICS_MD } from "./leanMetricsMd.ts";

const specs = listMetricSpecs();

describe("metric table", () => {
  it("holds the full lean list and the runtime list, each name once", () => {
    const names = specs.map((s) => s.spec.name);
    assert.equal(new Set(names).size, names.length, "duplicate metric name");
    assert.equal(specs.filter((s) => s.list === "lean").length, 57, "metrics.md lists 57 lean metrics");
    for (const required of [
      "lean_node_info",
      "lean_node_start_time_seconds",
      "lean_node_sync_status",
      "lean_tick_interval_duration_seconds",
      "lean_finalizations_total",
      "lean_aggregator_skipped_total",
      "lean_connected_peers",
      "lean_peer_connection_events_total",
      "lean_peer_disconnection_events_total",
      "lean_gossip_mesh_peers",
      "lean_gossip_block_size_bytes",
      "metronome_gossip_attestations_dropped_total",
      "lean_block_fetch_dedup_total",
      "lean_pending_attestations_size",
      "metronome_tick_lateness_seconds",
      "metronome_event_loop_delay_seconds",
      "metronome_sse_dropped_total",
    ]) {
      assert.ok(names.includes(required), `${required} missing from the table`);
    }
  });

  it("matches metrics.md exactly: every lean metric's name, type, labels and buckets", () => {
    const lean = specs.filter((s) => s.list === "lean");
    assert.deepEqual(lean.map((s) => s.spec.name).sort(), LEAN_METRICS_MD.map(([name]) => name).sort());
    for (const [name, type, labels, buckets] of LEAN_METRICS_MD) {
      const spec = lean.find((s) => s.spec.name === name)?.spec;
      assert.ok(spec, name);
      assert.equal(spec.type, type, `${name} type`);
      assert.deepEqual([...spec.labels], [...labels], `${name} labels`);
      assert.deepEqual([...(spec.buckets ?? [])], [...buckets], `${name} buckets`);
    }
  });

  it("keeps naming rules: counters end in _total, histograms have ascending buckets", () => {
    for (const { spec } of specs) {
      if (spec.type === "counter") assert.match(spec.name, /_total$/, spec.name);
      else assert.doesNotMatch(spec.name, /_total$/, spec.name);
      if (spec.type === "histogram") {
        assert.ok(spec.buckets && spec.buckets.length > 0, `${spec.name} has no buckets`);
        for (let i = 1; i < spec.buckets.length; i++) assert.ok(spec.buckets[i] > spec.buckets[i - 1], spec.name);
      } else {
        assert.equal(spec.buckets, undefined, `${spec.name} is not a histogram but has buckets`);
      }
      for (const label of Object.keys(spec.labelValues ?? {})) {
        assert.ok(spec.labels.includes(label), `${spec.name}: values given for undeclared label ${label}`);
      }
    }
  });

  it("says in help text that lean_pq_sig_* measure BLS signatures", () => {
    const pq = specs.filter((s) => s.spec.name.startsWith("lean_pq_sig_"));
    assert.equal(pq.length, 11);
    for (const { spec } of pq) assert.match(spec.help, /BLS/, spec.name);
  });
});

describe("scraped exposition", () => {
  let m: MetronomeMetrics;
  let text: string;
  let families: Map<string, Family>;

  before(async () => {
    m = createMetrics({ client: "metronome_0", version: "9.9.9-test" });
    // Touch a few, including every labelled metric whose label values are open-ended.
    m.forkChoice.headSlot.set(42);
    m.stateTransition.latestFinalizedSlot.set(30);
    m.runtime.tickLatenessSeconds.observe(0.003);
    m.forkChoice.tickIntervalDurationSeconds.observe(0.8);
    m.runtime.gossipAttestationsDropped.inc({ kind: "single", reason: "idle" }, 3);
    m.runtime.blockFetchDedup.inc({ outcome: "inflight_cap" });
    m.runtime.queueDepth.set({ queue: "gossip_attestation" }, 7);
    m.runtime.queueDropped.inc({ queue: "gossip_attestation", reason: "queue_full" });
    m.runtime.workerJobs.inc({ kind: "bls_verify", result: "success" });
    m.network.connectedPeers.set({ client: m.client }, 3);
    m.pqSig.attestationVerificationTimeSeconds.observe(0.002);
    m.setSyncStatus("synced");
    text = await m.registry.metrics();
    families = parseExposition(text);
  });

  after(() => m.close());

  it("has a `# TYPE <name> <type>` line of the right type for every metric", () => {
    const lines = new Set(text.split("\n"));
    for (const { spec } of specs) {
      assert.ok(lines.has(`# TYPE ${spec.name} ${spec.type}`), `no '# TYPE ${spec.name} ${spec.type}' line`);
      assert.equal(families.get(spec.name)?.help, spec.help, `${spec.name} help text`);
    }
  });

  it("exposes every histogram series with exactly the table's le buckets, then +Inf, _sum and _count", () => {
    for (const { spec } of specs) {
      if (spec.type !== "histogram") continue;
      const fam = families.get(spec.name);
      assert.ok(fam, spec.name);
      const bySeries = new Map<string, number[]>();
      for (const s of fam.samples.filter((x) => x.name === `${spec.name}_bucket`)) {
        const key = seriesKey(s.labels);
        bySeries.set(key, [...(bySeries.get(key) ?? []), Number(s.labels.le === "+Inf" ? Infinity : s.labels.le)]);
      }
      if (spec.labels.length === 0) assert.equal(bySeries.size, 1, `${spec.name} should have one series`);
      for (const [key, les] of bySeries) {
        assert.deepEqual(les, [...(spec.buckets ?? []), Number.POSITIVE_INFINITY], `${spec.name} ${key} buckets`);
        const sameSeries = (n: string) =>
          fam.samples.some((s) => s.name === `${spec.name}_${n}` && seriesKey(s.labels) === key);
        assert.ok(sameSeries("sum") && sameSeries("count"), `${spec.name} ${key} lacks _sum/_count`);
      }
    }
  });

  it("uses exactly the declared label names on every sample, and creates known label combinations up front", () => {
    for (const { spec } of specs) {
      const fam = families.get(spec.name);
      assert.ok(fam && fam.samples.length > 0, `${spec.name} has no samples`);
      for (const s of fam.samples) {
        const names = Object.keys(s.labels).filter((l) => !(s.name.endsWith("_bucket") && l === "le"));
        assert.deepEqual(names.sort(), [...spec.labels].sort(), `${spec.name} labels of ${s.name}`);
      }
      const values = spec.labelValues;
      if (!values || !spec.labels.every((l) => values[l])) continue;
      const expected = spec.labels.reduce((n, l) => n * (values[l]?.length ?? 0), 1);
      const series = new Set(fam.samples.map((s) => seriesKey(s.labels)));
      assert.equal(series.size, expected, `${spec.name}: every known label combination exists`);
      for (const s of fam.samples) {
        for (const l of spec.labels) assert.ok(values[l]?.includes(s.labels[l]), `${spec.name} ${l}=${s.labels[l]}`);
      }
    }
  });

  it("shows the values that were set", () => {
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.samples.find((s) => s.name === name && seriesKey(s.labels) === seriesKey(labels))?.value;
    assert.equal(value("lean_head_slot"), 42);
    assert.equal(value("lean_latest_finalized_slot"), 30);
    assert.equal(value("lean_node_info", { name: "metronome", version: "9.9.9-test" }), 1);
    assert.equal(value("lean_connected_peers", { client: "metronome_0" }), 3);
    assert.equal(value("lean_gossip_mesh_peers", { client: "metronome_0" }), 0);
    assert.equal(value("metronome_gossip_attestations_dropped_total", { kind: "single", reason: "idle" }), 3);
    assert.equal(value("metronome_gossip_attestations_dropped_total", { kind: "aggregated", reason: "idle" }), 0);
    assert.equal(value("lean_block_fetch_dedup_total", { outcome: "inflight_cap" }), 1);
    assert.equal(value("metronome_queue_depth", { queue: "gossip_attestation" }), 7);
    assert.equal(value("lean_node_sync_status", { status: "synced" }), 1);
    assert.equal(value("lean_node_sync_status", { status: "idle" }), 0);
    assert.equal(value("lean_node_sync_status", { status: "syncing" }), 0);
    assert.equal(value("metronome_sync_state"), 2);
    const start = value("lean_node_start_time_seconds") ?? 0;
    assert.ok(Math.abs(start - Date.now() / 1000) < 60, `start time ${start} is not now`);
    // This thread's V8 heap limit, so an alert can divide the heap in use by it.
    const heapLimit = value("metronome_driver_thread_heap_limit_bytes") ?? 0;
    assert.equal(heapLimit, getHeapStatistics().heap_size_limit);
    assert.ok(heapLimit > 0);
    assert.equal(value("metronome_tick_lateness_seconds_count"), undefined, "histogram parts are not families");
    const lateness = families.get("metronome_tick_lateness_seconds")?.samples;
    assert.equal(lateness?.find((s) => s.name.endsWith("_bucket") && s.labels.le === "0.0025")?.value, 0);
    assert.equal(lateness?.find((s) => s.name.endsWith("_bucket") && s.labels.le === "0.005")?.value, 1);
  });

  it("includes the standard Node process metrics without a prefix", () => {
    for (const [name, type] of [
      ["process_cpu_seconds_total", "counter"],
      ["process_resident_memory_bytes", "gauge"],
      ["nodejs_heap_size_used_bytes", "gauge"],
      ["nodejs_eventloop_lag_seconds", "gauge"],
    ]) {
      assert.equal(families.get(name)?.type, type, name);
    }
  });
});

describe("event-loop delay gauge", () => {
  it("reports a blocked loop in the quantile=1 series on the next scrape", async () => {
    const m = createMetrics({ processMetrics: false });
    try {
      const deadline = Date.now() + 5000;
      let max = 0;
      while (max < 0.04 && Date.now() < deadline) {
        const until = Date.now() + 60;
        while (Date.now() < until) {
          // block the loop for 60 ms
        }
        // Let the sampler's timer fire and record the stall before scraping.
        await new Promise((r) => setTimeout(r, 25));
        const fam = parseExposition(await m.registry.metrics()).get("metronome_event_loop_delay_seconds");
        max = fam?.samples.find((s) => s.labels.quantile === "1")?.value ?? 0;
      }
      assert.ok(max >= 0.04, `max event-loop delay ${max}s after a 60 ms block`);
    } finally {
      m.close();
    }
  });
});

describe("isolation", () => {
  it("gives each createMetrics() its own registry and leaves the global one alone", async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    try {
      assert.notEqual(a.registry, b.registry);
      a.forkChoice.headSlot.set(10);
      b.forkChoice.headSlot.set(20);
      a.runtime.ticks.inc(5);
      const pa = parseExposition(await a.registry.metrics());
      const pb = parseExposition(await b.registry.metrics());
      assert.equal(pa.get("lean_head_slot")?.samples[0]?.value, 10);
      assert.equal(pb.get("lean_head_slot")?.samples[0]?.value, 20);
      assert.equal(pa.get("metronome_ticks_total")?.samples[0]?.value, 5);
      assert.equal(pb.get("metronome_ticks_total")?.samples[0]?.value, 0);
      assert.equal(globalRegistry.getSingleMetric("lean_head_slot"), undefined);
    } finally {
      a.close();
      b.close();
    }
  });

  it("registers on a caller's registry, and a second set on the same registry fails without damage", async () => {
    const first = createMetrics({ processMetrics: false });
    try {
      const count = first.registry.getMetricsAsArray().length;
      assert.throws(
        () => createMetrics({ registry: first.registry, processMetrics: false }),
        /already been registered/,
      );
      assert.equal(first.registry.getMetricsAsArray().length, count);
      first.forkChoice.headSlot.set(7);
      assert.match(await first.registry.metrics(), /^lean_head_slot 7$/m);
    } finally {
      first.close();
    }
  });

  it("rolls back a half-built set when a name late in the table is taken", () => {
    const registry = new Registry();
    new Counter({ name: "metronome_sse_dropped_total", help: "taken", registers: [registry] });
    assert.throws(() => createMetrics({ registry }), /already been registered/);
    assert.deepEqual(
      registry.getMetricsAsArray().map((x) => x.name),
      ["metronome_sse_dropped_total"],
    );
  });
});

// The Grafana dashboard and the Prometheus scrape config under docs/ must only use metrics that
// exist and must cover what an operator checks first.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { listMetricSpecs } from "@metronome/metrics";

const repoRoot = new URL("../../../", import.meta.url);
// Grafana substitutes this at import time; it is a literal here, not a JS template.
const DS_UID = "$" + "{DS_PROMETHEUS}";
const dashboardPath = new URL("docs/grafana/metronome-dashboard.json", repoRoot);
const scrapePath = new URL("docs/prometheus/devnet-scrape.yml", repoRoot);

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  type: string;
  title?: string;
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating?: { list: { datasource?: { uid?: string } }[] };
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Process metrics come from prom-client's default collectors, not the table. */
const PROCESS_METRICS = new Set([
  "process_resident_memory_bytes",
  "process_cpu_seconds_total",
  "nodejs_heap_size_used_bytes",
]);

const HISTOGRAMS = new Set(
  listMetricSpecs()
    .filter((s) => s.spec.type === "histogram")
    .map((s) => s.spec.name),
);

/** Metric names an expression uses, with a histogram's _bucket/_sum/_count folded into its name. */
function metricNamesIn(expr: string): string[] {
  const names = expr.match(/\b(?:lean|metronome|process|nodejs)_[a-z0-9_]+/g) ?? [];
  return names.map((n) => {
    const part = n.match(/^(.*)_(?:bucket|sum|count)$/);
    return part && HISTOGRAMS.has(part[1]) ? part[1] : n;
  });
}

describe("docs/grafana/metronome-dashboard.json", () => {
  const dashboard = JSON.parse(readFileSync(dashboardPath, "utf8")) as Dashboard;
  const panels = allPanels(dashboard.panels);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ""));

  it("takes its data source as the DS_PROMETHEUS input variable", () => {
    assert.deepEqual(
      dashboard.__inputs?.map((i) => [i.name, i.type, i.pluginId]),
      [["DS_PROMETHEUS", "datasource", "prometheus"]],
    );
    for (const p of panels.filter((x) => x.type !== "row")) {
      assert.equal(p.datasource?.uid, DS_UID, `panel ${p.title}`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, DS_UID, `target of ${p.title}`);
    }
    for (const v of dashboard.templating?.list ?? []) assert.equal(v.datasource?.uid, DS_UID);
  });

  it("references only metrics that a node exports", () => {
    const known = new Set(listMetricSpecs().map((s) => s.spec.name));
    for (const expr of exprs) {
      for (const name of metricNamesIn(expr)) {
        assert.ok(known.has(name) || PROCESS_METRICS.has(name), `unknown metric ${name} in: ${expr}`);
      }
    }
  });

  it("shows the node-health essentials", () => {
    const used = new Set(exprs.flatMap(metricNamesIn));
    for (const name of [
      "metronome_tick_lateness_seconds",
      "metronome_intervals_missed_total",
      "lean_head_slot",
      "lean_latest_justified_slot",
      "lean_latest_finalized_slot",
      "lean_connected_peers",
      "metronome_gossip_attestations_dropped_total",
      "metronome_blocks_by_root_inflight",
      "lean_pending_attestations_size",
      "metronome_worker_queue_depth",
      "metronome_event_loop_delay_seconds",
      "process_resident_memory_bytes",
    ]) {
      assert.ok(used.has(name), `dashboard does not show ${name}`);
    }
    assert.ok(
      exprs.some((e) => e.includes("histogram_quantile(0.5,") && e.includes("metronome_tick_lateness_seconds_bucket")),
      "tick lateness p50",
    );
    assert.ok(
      exprs.some((e) => e.includes("histogram_quantile(0.99,") && e.includes("metronome_tick_lateness_seconds_bucket")),
      "tick lateness p99",
    );
    assert.ok(
      exprs.some((e) => /lean_head_slot\{[^}]*\} - lean_latest_finalized_slot/.test(e)),
      "head-finalized gap",
    );
    assert.ok(
      exprs.some((e) => e.includes("metronome_gossip_attestations_dropped_total") && /by \([^)]*reason/.test(e)),
      "gossip drops broken down by reason",
    );
  });
});

describe("docs/prometheus/devnet-scrape.yml", () => {
  const text = readFileSync(scrapePath, "utf8");

  it("scrapes the four devnet nodes on 127.0.0.1:8008..8011 every 5s", () => {
    const targets = [...text.matchAll(/targets:\s*\["([^"]+)"\]/g)].map((m) => m[1]);
    assert.deepEqual(targets, ["127.0.0.1:8008", "127.0.0.1:8009", "127.0.0.1:8010", "127.0.0.1:8011"]);
    assert.match(text, /^\s+scrape_interval: 5s$/m);
    assert.match(text, /^\s+metrics_path: \/metrics$/m);
    assert.doesNotMatch(text, /\t/, "YAML must not contain tabs");
  });
});

// `promtool check metrics` parses the exposition and lints names. Its parse must succeed; its lint
// may only report the problems listed below, each forced on us by a name we must keep.
// Without promtool on PATH those tests skip (nothing is installed); the table rules still run.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createMetrics, listMetricSpecs } from "@metronome/metrics";

/** promtool's exit code for "parsed fine, lint problems found". */
const PROMTOOL_LINT_EXIT = 3;

const COUNT_SUFFIX = 'non-histogram and non-summary metrics should not have "_count" suffix';
const QUANTILE_LABEL = 'non-summary metrics should not have "quantile" label';
const TOTAL_SUFFIX = 'non-counter metrics should not have "_total" suffix';

/** `<metric> <problem>` lines promtool prints that are accepted, and why. */
const KNOWN_LINT_PROBLEMS: ReadonlyMap<string, string> = new Map([
  [`lean_validators_count ${COUNT_SUFFIX}`, "name fixed by leanMetrics metrics.md"],
  [`lean_attestation_committee_count ${COUNT_SUFFIX}`, "name fixed by leanMetrics metrics.md"],
  [`metronome_event_loop_delay_seconds ${QUANTILE_LABEL}`, "p50/p99/max gauge with a quantile label, by design"],
  [`nodejs_active_handles_total ${TOTAL_SUFFIX}`, "prom-client default collector"],
  [`nodejs_active_requests_total ${TOTAL_SUFFIX}`, "prom-client default collector"],
  [`nodejs_active_resources_total ${TOTAL_SUFFIX}`, "prom-client default collector"],
]);

function unexpectedLintProblems(promtoolStderr: string): string[] {
  return promtoolStderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !KNOWN_LINT_PROBLEMS.has(l));
}

const promtoolMissing = spawnSync("promtool", ["--version"], { encoding: "utf8" }).error !== undefined;
const skipWithoutPromtool = promtoolMissing
  ? "promtool is not on PATH; skipping (nothing is installed for tests)"
  : false;

describe("promtool lint allow-list", () => {
  it("accepts only the listed problems", () => {
    const out = [
      `lean_validators_count ${COUNT_SUFFIX}`,
      `metronome_event_loop_delay_seconds ${QUANTILE_LABEL}`,
      "",
      `metronome_new_thing ${COUNT_SUFFIX}`,
      'lean_head_slot counter metrics should have "_total" suffix',
    ].join("\n");
    assert.deepEqual(unexpectedLintProblems(out), [
      `metronome_new_thing ${COUNT_SUFFIX}`,
      'lean_head_slot counter metrics should have "_total" suffix',
    ]);
  });

  it("the table itself breaks promlint's naming rules only where the allow-list says", () => {
    const problems: string[] = [];
    for (const { spec } of listMetricSpecs()) {
      const histogramOrSummary = spec.type === "histogram";
      if (spec.type !== "counter" && spec.name.endsWith("_total")) problems.push(`${spec.name} ${TOTAL_SUFFIX}`);
      if (!histogramOrSummary && spec.name.endsWith("_count")) problems.push(`${spec.name} ${COUNT_SUFFIX}`);
      if (!histogramOrSummary && /_(sum|bucket)$/.test(spec.name)) problems.push(`${spec.name} reserved suffix`);
      if (spec.labels.includes("quantile")) problems.push(`${spec.name} ${QUANTILE_LABEL}`);
      if (spec.labels.includes("le")) problems.push(`${spec.name} le label`);
      if (/[A-Z]/.test(spec.name) || spec.labels.some((l) => /[A-Z]/.test(l))) problems.push(`${spec.name} camelCase`);
    }
    assert.deepEqual(unexpectedLintProblems(problems.join("\n")), []);
  });
});

describe("promtool", () => {
  it(
    "check metrics: the scrape parses and lints clean apart from the allow-list",
    { skip: skipWithoutPromtool },
    async () => {
      const m = createMetrics({ client: "metronome_0" });
      try {
        m.runtime.queueDepth.set({ queue: "gossip_attestation" }, 1);
        m.runtime.queueDropped.inc({ queue: "gossip_attestation", reason: "queue_full" });
        m.runtime.workerJobs.inc({ kind: "bls_verify", result: "success" });
        const text = await m.registry.metrics();
        const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
        assert.ok(run.status === 0 || run.status === PROMTOOL_LINT_EXIT, `promtool exit ${run.status}: ${run.stderr}`);
        assert.deepEqual(unexpectedLintProblems(run.stderr), []);
      } finally {
        m.close();
      }
    },
  );

  it("check config: docs/prometheus/devnet-scrape.yml is valid", { skip: skipWithoutPromtool }, () => {
    const file = fileURLToPath(new URL("../../../docs/prometheus/devnet-scrape.yml", import.meta.url));
    const run = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  });
});

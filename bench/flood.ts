// The gossip-flood benchmark: does a node keep time while a peer floods it?
//   1. measure this machine's signature-verification capacity on the flood's own sets (the rate
//      defaults to twice that, so the flood overloads verification by design);
//   2. start a 4-node devnet (one process per node), wait for finality;
//   3. watch node 0 (the aggregator) through its /metrics and /lean/v0/health: a no-flood period,
//      then a flood period with `metronome flood` in its own process, then a short recovery period;
//      then (unless --skip-ablation) restart node 0 with each ABLATIONS flag set and flood it again.
// Prints one table (a column per period) and writes bench/results/flood.json.
//   node bench/flood.ts [--flood-seconds 300] [--baseline-seconds 60] [--rate N] [--mix ...]
//                       [--slot-seconds 4] [--validators 32] [--skip-ablation] [--ablation-seconds 90]

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { defaultWorkerCount } from "../packages/bls/src/pool.ts";
import { measureVerificationCapacity } from "../packages/flood/src/capacity.ts";
import type { FloodSummary } from "../packages/flood/src/flooder.ts";
import { DEFAULT_MIX_TEXT, formatMix, mixShare, parseMix, VERIFIED_KINDS } from "../packages/flood/src/mix.ts";
import type { PeriodSummary } from "../packages/flood/src/periodSummary.ts";
import { procCpuSeconds, TargetProbe } from "../packages/flood/src/targetProbe.ts";
import { createBenchDevnet } from "./lib/benchDevnet.ts";
import { machineInfo } from "./lib/machine.ts";
import { formatTable, type Row, writeResult } from "./lib/report.ts";

const { values } = parseArgs({
  options: {
    "flood-seconds": { type: "string", default: "300" },
    "baseline-seconds": { type: "string", default: "60" },
    "recovery-seconds": { type: "string", default: "30" },
    "ablation-seconds": { type: "string", default: "90" },
    "skip-ablation": { type: "boolean", default: false },
    rate: { type: "string" },
    mix: { type: "string", default: DEFAULT_MIX_TEXT },
    "slot-seconds": { type: "string", default: "4" },
    validators: { type: "string", default: "32" },
    nodes: { type: "string", default: "4" },
    "sample-seconds": { type: "string", default: "2" },
    // Under a flood RSS climbs for ~90 s while the 24 s gossip caches and the bounded queues fill (the
    // memory series in the JSON shows it), then levels off: growth is measured from 120 s.
    "warmup-seconds": { type: "string", default: "120" },
    "capacity-sets": { type: "string", default: "1024" },
    keep: { type: "boolean", default: false },
  },
});

const floodS = Number(values["flood-seconds"]);
const baselineS = Number(values["baseline-seconds"]);
const recoveryS = Number(values["recovery-seconds"]);
const ablationS = Number(values["ablation-seconds"]);
const slotSeconds = Number(values["slot-seconds"]);
const validatorCount = Number(values.validators);
const nodeCount = Number(values.nodes);
const sampleMs = Number(values["sample-seconds"]) * 1000;
const warmupS = Number(values["warmup-seconds"]);
const mix = parseMix(values.mix);
const METRONOME = fileURLToPath(new URL("../packages/node/src/bin/metronome.ts", import.meta.url));

/** Periods after the main flood, each on node 0 restarted with these flags. */
const ABLATIONS = [
  { name: "pool, --max-batch 0", args: ["--max-batch", "0"] },
  { name: "main thread", args: ["--bls-workers", "0"] },
  { name: "main thread, --max-batch 0", args: ["--bls-workers", "0", "--max-batch", "0"] },
] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function log(line: string): void {
  console.log(`[flood bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

// ---- 1. capacity ---------------------------------------------------------------------------

const workers = defaultWorkerCount();
log(`measuring verification capacity on the flood's sets (${workers} worker(s), as the node runs)...`);
const capacity = await measureVerificationCapacity({
  validatorCount,
  mix,
  sets: Number(values["capacity-sets"]),
  workers,
});
const verifiedShare = mixShare(mix, VERIFIED_KINDS);
const autoRate = Math.round((2 * capacity.poolSetsPerSec) / Math.max(verifiedShare, 0.01) / 50) * 50;
const rate = values.rate !== undefined ? Number(values.rate) : autoRate;
const rateReason =
  values.rate !== undefined
    ? "given with --rate"
    : `2 x pool capacity ${capacity.poolSetsPerSec.toFixed(0)} sets/s on this mix / ${(verifiedShare * 100).toFixed(0)}% of messages needing a signature check, rounded to 50`;
log(
  `capacity: pool ${capacity.poolSetsPerSec.toFixed(0)} sets/s, same batch code on one thread ${capacity.sameBatchBlstSetsPerSec.toFixed(0)} sets/s idle, ${capacity.sameBatchBlstOtherCoresBusySetsPerSec.toFixed(0)} sets/s with the other cores busy (${(capacity.validFraction * 100).toFixed(0)}% of the sets valid)`,
);
log(`flood rate ${rate} msgs/s (${rateReason}), mix ${formatMix(mix)}`);

// ---- 2. devnet -----------------------------------------------------------------------------

const { out, genesisDir, devnet } = await createBenchDevnet({
  name: "flood",
  nodes: nodeCount,
  validators: validatorCount,
  slotSeconds,
  genesisDelay: 3 + 2 * nodeCount,
});
const target = devnet.nodes[0];
if (target === undefined) throw new Error("no node 0");
const targetAddr = `${target.entry.listen}/p2p/${target.entry.peerId}`;
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

const healthUrl = `http://127.0.0.1:${target.entry.httpPort}/lean/v0/health`;
const probe = new TargetProbe({
  metricsUrl: `http://127.0.0.1:${target.entry.metricsPort}/metrics`,
  healthUrl,
  intervalMs: sampleMs,
  pid: () => target.child?.pid ?? undefined,
});

interface PeriodResult {
  summary: PeriodSummary;
  flood: FloodSummary | null;
  flooderCpuPercent: number;
}
const periods: PeriodResult[] = [];

async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function quietPeriod(name: string, seconds: number): Promise<void> {
  log(`${name}: ${seconds} s`);
  const from = Date.now();
  await probe.scrape();
  await sleep(seconds * 1000);
  await probe.scrape();
  periods.push({
    summary: probe.summarize(name, from, Date.now(), warmupS),
    flood: null,
    flooderCpuPercent: Number.NaN,
  });
}

async function floodPeriod(name: string, seconds: number): Promise<void> {
  log(`${name}: ${seconds} s at ${rate} msgs/s`);
  const summaryFile = join(out, `${name.replace(/\W+/g, "-")}.json`);
  const child = spawn(
    process.execPath,
    [
      METRONOME,
      "flood",
      "--target",
      targetAddr,
      "--genesis",
      genesisDir,
      "--rate",
      String(rate),
      "--duration",
      String(seconds),
      "--mix",
      formatMix(mix),
      "--report-seconds",
      "30",
      "--summary-file",
      summaryFile,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let from = 0;
  let cpuStart: number | null = null;
  const sending = new Promise<void>((resolve) => {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n").filter(Boolean)) {
        log(`  flooder: ${line}`);
        if (line.startsWith("flood: sending")) {
          from = Date.now();
          cpuStart = child.pid === undefined ? null : procCpuSeconds(child.pid);
          void probe.scrape();
          resolve();
        }
      }
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => log(`  flooder stderr: ${chunk.trim()}`));
  });
  let cpuEnd: number | null = null;
  const cpuSampler = setInterval(() => {
    if (child.pid !== undefined && child.exitCode === null) cpuEnd = procCpuSeconds(child.pid) ?? cpuEnd;
  }, 1_000);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const timeout = setTimeout(() => child.kill("SIGTERM"), (seconds + 90) * 1000);
  await Promise.race([sending, exited]);
  const code = await exited;
  const to = Date.now();
  clearTimeout(timeout);
  clearInterval(cpuSampler);
  children.delete(child);
  await probe.scrape();
  if (from === 0) throw new Error(`${name}: the flooder exited (${code}) before sending`);
  const flood = JSON.parse(await readFile(summaryFile, "utf8")) as FloodSummary;
  const start = cpuStart as number | null;
  const end = cpuEnd as number | null;
  const flooderCpuPercent =
    start !== null && end !== null ? (100 * (end - start)) / Math.max(1, flood.elapsedS) : Number.NaN;
  periods.push({ summary: probe.summarize(name, from, to, warmupS), flood, flooderCpuPercent });
}

let failure: unknown = null;
try {
  devnet.startAll();
  for (const n of devnet.nodes) if (n.child) children.add(n.child);
  log(`devnet: ${nodeCount} nodes, ${validatorCount} validators, ${slotSeconds} s slots, logs in ${out}`);
  const health = (): Promise<unknown> =>
    fetch(healthUrl, { signal: AbortSignal.timeout(3_000) }).then(
      (r) => (r.ok ? r.json() : null),
      () => null,
    );
  await waitFor("finality on node 0", 180_000, async () => {
    const h = (await health()) as { finalized_slot?: number } | null;
    return (h?.finalized_slot ?? 0) >= 3;
  });
  probe.start();
  await quietPeriod("no flood", baselineS);
  await floodPeriod("flood", floodS);
  if (recoveryS > 0) await quietPeriod("after flood", recoveryS);
  if (!values["skip-ablation"]) {
    // Each ablation restarts node 0 with other flags and floods it again. With the worker pool the
    // pool's own acceptance already bounds what one pass takes, so the batch bound is also shown
    // where it is the only bound: signatures checked on the main thread, as the seed's client did.
    for (const { name, args } of ABLATIONS) {
      log(`ablation: restarting node 0 with ${args.join(" ")}`);
      await devnet.stop(target, "SIGTERM");
      devnet.start(target, [...args]);
      if (target.child) children.add(target.child);
      await waitFor("node 0 back and synced", 120_000, async () => {
        const h = (await health()) as { head_slot?: number; current_slot?: number; sync_state?: string } | null;
        return h?.sync_state === "SYNCED" && (h.current_slot ?? 0) - (h.head_slot ?? 0) <= 2;
      });
      await sleep(3 * slotSeconds * 1000);
      await floodPeriod(name, ablationS);
    }
  }
} catch (err) {
  failure = err;
  log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  probe.stop();
  await devnet.stopAll(5_000);
}

// ---- report --------------------------------------------------------------------------------

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : "-");
const col = (p: PeriodResult) => p.summary.name;
const row = (figure: string, f: (p: PeriodResult) => string | number): Row => {
  const r: Row = { figure };
  for (const p of periods) r[col(p)] = f(p);
  return r;
};
const dropKeys = [...new Set(periods.flatMap((p) => Object.keys(p.summary.drops)))].sort();
const rows: Row[] = [
  row("period length s", (p) => fmt(p.summary.durationS)),
  row("flood asked / achieved msgs/s", (p) => (p.flood ? `${p.flood.rate} / ${fmt(p.flood.achievedRate)}` : "-")),
  row("flooder CPU %", (p) => fmt(p.flooderCpuPercent)),
  row("node 0 CPU % (all threads)", (p) => fmt(p.summary.cpuPercent)),
  row("interval ticks", (p) => fmt(p.summary.ticks)),
  row("tick lateness p50 ms (histogram)", (p) => fmt(p.summary.tickLatenessP50Ms, 1)),
  row("tick lateness p99 ms (histogram)", (p) => fmt(p.summary.tickLatenessP99Ms, 1)),
  row("tick lateness max ms (<= bucket)", (p) => fmt(p.summary.tickLatenessMaxBoundMs)),
  row("ticks later than 100 ms", (p) => fmt(p.summary.ticksLaterThan100Ms)),
  row("intervals missed (counter)", (p) => fmt(p.summary.intervalsMissed)),
  row("last tick age max ms (health)", (p) => fmt(p.summary.lastTickAgeMaxMs)),
  row("driver pass p99 ms", (p) => fmt(p.summary.driverPassP99Ms, 1)),
  row("head - finalized max slots", (p) => fmt(p.summary.headFinalizedGapMax)),
  row("clock - head max slots", (p) => fmt(p.summary.currentHeadGapMax)),
  row("finalized slot start -> end", (p) => `${fmt(p.summary.finalizedStart)} -> ${fmt(p.summary.finalizedEnd)}`),
  row("signature checks/s (gossip attestations)", (p) => fmt(p.summary.verificationsPerSec)),
  row(
    "  accepted / buffered / bad sig per s",
    (p) =>
      `${fmt(p.summary.acceptedPerSec)} / ${fmt(p.summary.bufferedPerSec)} / ${fmt(p.summary.invalidSignaturePerSec)}`,
  ),
  row("  sets per verifier busy second", (p) => fmt(p.summary.setsPerBusySecond)),
  row("  same, vs same-batch blst on one idle thread %", (p) =>
    fmt((100 * p.summary.setsPerBusySecond) / capacity.sameBatchBlstSetsPerSec),
  ),
  row("  same, vs same-batch blst with the other cores busy %", (p) =>
    fmt((100 * p.summary.setsPerBusySecond) / capacity.sameBatchBlstOtherCoresBusySetsPerSec),
  ),
  row("  verifier busy share of the wall clock %", (p) => fmt(100 * p.summary.verifierBusyShare)),
  row("  checks vs same-batch blst capacity, idle machine %", (p) =>
    fmt((100 * p.summary.verificationsPerSec) / capacity.sameBatchBlstSetsPerSec),
  ),
  row("  checks vs same-batch blst capacity, other cores busy %", (p) =>
    fmt((100 * p.summary.verificationsPerSec) / capacity.sameBatchBlstOtherCoresBusySetsPerSec),
  ),
  ...dropKeys.map((k) => row(`drops: ${k}`, (p) => fmt(p.summary.drops[k] ?? 0))),
  row(
    "BlocksByRoot in flight max seen / cap",
    (p) => `${fmt(p.summary.blocksByRootInflightMax)} / ${fmt(p.summary.blocksByRootInflightCap)}`,
  ),
  row("fetches refused at the cap", (p) => fmt(p.summary.fetchInflightCapRefusals)),
  row("pending buffer max seen (per kind)", (p) => fmt(p.summary.pendingMax)),
  row("pending evicted", (p) => fmt(p.summary.pendingEvicted)),
  row("attestation queue max seen", (p) => fmt(p.summary.attestationQueueMax)),
  row(
    "event-loop delay p99 ms (median / max of windows)",
    (p) => `${fmt(p.summary.eventLoopP99MsMedian, 1)} / ${fmt(p.summary.eventLoopP99MsMax, 1)}`,
  ),
  row("event-loop delay max ms", (p) => fmt(p.summary.eventLoopMaxMs)),
  row(
    "RSS start / end / max MiB",
    (p) => `${fmt(p.summary.rssStartMiB)} / ${fmt(p.summary.rssEndMiB)} / ${fmt(p.summary.rssMaxMiB)}`,
  ),
  row(`RSS growth after ${warmupS} s warm-up MiB`, (p) => fmt(p.summary.rssGrowthAfterWarmupMiB, 1)),
  row(
    "main heap used end / max MiB; external end MiB",
    (p) => `${fmt(p.summary.heapUsedEndMiB)} / ${fmt(p.summary.heapUsedMaxMiB)}; ${fmt(p.summary.externalEndMiB)}`,
  ),
  row("failed scrapes", (p) => fmt(p.summary.failedScrapes)),
];
const m = machineInfo();
console.log(
  `\n## Gossip flood on node 0 (aggregator): ${nodeCount} nodes, ${validatorCount} validators, ${slotSeconds} s slots\n`,
);
console.log(
  `machine: ${m.nproc} cpus, ${m.cpuModel}, node ${m.node}, load ${m.loadAverage1m}; ` +
    `capacity on this mix: pool ${fmt(capacity.poolSetsPerSec)} sets/s, same-batch blst ${fmt(capacity.sameBatchBlstSetsPerSec)} sets/s idle, ` +
    `${fmt(capacity.sameBatchBlstOtherCoresBusySetsPerSec)} sets/s with the other cores busy; ` +
    `rate ${rate} msgs/s (${rateReason})\n`,
);
console.log(formatTable(rows));
const byName = (name: string) => periods.find((p) => p.summary.name === name);
const ablationFigures = [
  ["tick lateness p99 ms", (p: PeriodResult) => p.summary.tickLatenessP99Ms],
  ["tick lateness max ms (<= bucket)", (p: PeriodResult) => p.summary.tickLatenessMaxBoundMs],
  ["ticks later than 100 ms", (p: PeriodResult) => p.summary.ticksLaterThan100Ms],
  ["intervals missed", (p: PeriodResult) => p.summary.intervalsMissed],
  ["driver pass p99 ms", (p: PeriodResult) => p.summary.driverPassP99Ms],
  ["event-loop delay max ms", (p: PeriodResult) => p.summary.eventLoopMaxMs],
  ["head - finalized max slots", (p: PeriodResult) => p.summary.headFinalizedGapMax],
] as const;
/** What the bound buys: each pair is (bounded, unbounded) under the same flood. */
const ablationPairs = [
  ["worker pool", "flood", "pool, --max-batch 0"],
  ["main-thread verification", "main thread", "main thread, --max-batch 0"],
] as const;
const ablation: Record<string, Record<string, { bounded: number; unbounded: number; ratio: number }>> = {};
for (const [label, boundedName, unboundedName] of ablationPairs) {
  const bounded = byName(boundedName);
  const unbounded = byName(unboundedName);
  if (bounded === undefined || unbounded === undefined) continue;
  ablation[label] = Object.fromEntries(
    ablationFigures.map(([figure, f]) => [
      figure,
      { bounded: f(bounded), unbounded: f(unbounded), ratio: f(unbounded) / f(bounded) },
    ]),
  );
}
for (const [label, figures] of Object.entries(ablation)) {
  console.log(`\nablation, ${label}: the driver's batch bound removed (bounded -> unbounded, ratio)`);
  for (const [figure, v] of Object.entries(figures)) {
    console.log(`  ${figure.padEnd(36)} ${fmt(v.bounded, 1)} -> ${fmt(v.unbounded, 1)}  (x${fmt(v.ratio, 1)})`);
  }
}
const path = writeResult(
  "flood",
  {
    floodS,
    baselineS,
    recoveryS,
    ablation: !values["skip-ablation"],
    ablationS,
    slotSeconds,
    validatorCount,
    nodeCount,
    sampleMs,
    warmupS,
    mix: formatMix(mix),
    rate,
    rateReason,
    loadAverageAfter: readLoad(),
  },
  {
    capacity,
    rows,
    ablation,
    periods: periods.map((p) => ({ ...p, samples: undefined })),
    failure: failure ? String(failure) : null,
  },
);
console.log(`\nwritten ${path}`);
if (!values.keep) await rm(out, { recursive: true, force: true });
else log(`kept ${out}`);
process.exitCode = failure === null ? 0 : 1;

function readLoad(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim();
  } catch {
    return "";
  }
}

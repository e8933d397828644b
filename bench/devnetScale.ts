// Devnet scale: how a devnet's cost per node grows with nodes and validators. For each
// configuration (nodes x validators, smallest first) a fresh devnet runs on loopback; after a
// warm-up the benchmark measures, per node and per slot: CPU (whole process and main thread), RSS,
// bytes through the sockets, gossip messages accepted, votes carried per block, tick lateness, and
// at the end head - finalized. A configuration the machine cannot carry (finality stalls, a node
// stops answering, ticks run later than an interval) ends the sweep cleanly. A linear model of
// per-node CPU (constant + per vote/s + per peer) is fitted on all but the held-out configuration,
// checked against it, and projected to 100 nodes x 10,000 validators. The devnets lay validators
// over subnets as `metronome devnet` does (one subnet up to 8 nodes, one per node beyond), so the
// model's vote term is the single votes each node handles (its subnets'), and the aggregator, which
// handles every vote, gets a model of its own.
//   node bench/devnetScale.ts [--configs 4x32,8x64,...] [--holdout 12x384] [--measure-slots 12]

import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { defaultGenesisDelay } from "../packages/devnet/src/devnetCommand.ts";
import type { NodeHealth } from "../packages/devnet/src/health.ts";
import type { Devnet } from "../packages/devnet/src/launcher.ts";
import { defaultCommitteeCount, splitValidators } from "../packages/devnet/src/subnets.ts";
import {
  type HistogramSnapshot,
  histogramDelta,
  histogramMaxBound,
  histogramQuantile,
  type PromSamples,
  parsePromText,
  promHistogram,
  promValue,
} from "../packages/flood/src/promText.ts";
import { attestationSubnetsToJoin } from "../packages/node/src/node/attestationSubnets.ts";
import { benchOptions } from "./lib/benchArgs.ts";
import { createBenchDevnet } from "./lib/benchDevnet.ts";
import { fitLinear, predict } from "./lib/costModel.ts";
import { writePng } from "./lib/plot.ts";
import { type ProcSample, procSample } from "./lib/procStats.ts";
import { printTable, type Row, writeResult } from "./lib/report.ts";

const values = benchOptions(import.meta.url, {
  configs: { type: "string", default: "4x32,8x64,8x256,16x256,16x512,16x1024" },
  holdout: { type: "string", default: "12x384" },
  "slot-seconds": { type: "string", default: "4" },
  "warmup-slots": { type: "string", default: "10" },
  "measure-slots": { type: "string", default: "12" },
});
const slotSeconds = Number(values["slot-seconds"]);
const warmupSlots = Number(values["warmup-slots"]);
const measureSlots = Number(values["measure-slots"]);

/** Past these the machine is not carrying the configuration: the sweep stops there (issue 12: 4). */
const MAX_FINALITY_LAG = 4;
const MAX_TICK_P99_S = 0.8;
/** Projection target of the cost model. */
const PROJECTED = { nodes: 100, validators: 10_000 };

interface Config {
  nodes: number;
  validators: number;
}

interface Snapshot {
  t: number;
  procs: (ProcSample | null)[];
  metrics: (PromSamples | null)[];
}

interface ConfigResult extends Config {
  ok: boolean;
  reason: string;
  holdout: boolean;
  slotsMeasured: number;
  committeeCount: number;
  cpuPerNode: number;
  /** Node 0, the devnet's one aggregator: it joins every subnet. */
  aggregatorCpu: number;
  /** Mean of the other nodes. */
  otherNodesCpu: number;
  mainThreadCpuPerNode: number;
  rssPerNodeMiB: number;
  rxBytesPerNodePerSlot: number;
  txBytesPerNodePerSlot: number;
  gossipAcceptedPerNodePerSlot: number;
  votesPerBlock: number;
  tickP99Ms: number;
  tickMaxMs: number;
  headMinusFinalized: number;
  unreachable: number;
}

function parseConfig(s: string): Config {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (m === null) throw new Error(`config "${s}" is not NODESxVALIDATORS`);
  return { nodes: Number(m[1]), validators: Number(m[2]) };
}

async function scrape(port: number): Promise<PromSamples | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? parsePromText(await res.text()) : null;
  } catch {
    return null;
  }
}

async function snapshot(devnet: Devnet): Promise<Snapshot> {
  const procs = await Promise.all(devnet.nodes.map((n) => (n.child?.pid ? procSample(n.child.pid) : null)));
  const metrics = await Promise.all(devnet.nodes.map((n) => scrape(n.entry.metricsPort)));
  return { t: Date.now() / 1000, procs, metrics };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function mean(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Per-node averages of `f(start, end)` over nodes sampled at both ends. */
function perNode<T>(a: (T | null)[], b: (T | null)[], f: (x: T, y: T) => number): number {
  const out: number[] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (x !== null && y !== null && y !== undefined) out.push(f(x, y));
  });
  return mean(out);
}

function mergedTickLateness(a: Snapshot, b: Snapshot): HistogramSnapshot | null {
  let merged: HistogramSnapshot | null = null;
  b.metrics.forEach((m, i) => {
    const to = m === null ? null : promHistogram(m, "metronome_tick_lateness_seconds");
    if (to === null) return;
    const fromM = a.metrics[i];
    const delta = histogramDelta(fromM ? promHistogram(fromM, "metronome_tick_lateness_seconds") : null, to);
    if (merged === null) merged = delta;
    else {
      const acc: HistogramSnapshot = merged;
      merged = {
        bounds: acc.bounds,
        counts: acc.counts.map((c, k) => c + (delta.counts[k] ?? 0)),
        sum: acc.sum + delta.sum,
        count: acc.count + delta.count,
      };
    }
  });
  return merged;
}

async function runConfig(config: Config, holdout: boolean): Promise<ConfigResult> {
  const genesisDelay = defaultGenesisDelay(config.nodes);
  const { out, devnet, committeeCount } = await createBenchDevnet({
    name: `scale-${config.nodes}x${config.validators}`,
    nodes: config.nodes,
    validators: config.validators,
    slotSeconds,
    genesisDelay,
  });
  console.log(
    `\n# ${config.nodes} nodes x ${config.validators} validators, ${committeeCount} subnet(s) (logs in ${out})`,
  );
  devnet.startAll();
  const slotMs = slotSeconds * 1000;
  let start: Snapshot | null = null;
  let end: Snapshot | null = null;
  let finalHealth: (NodeHealth | null)[] = [];
  try {
    await sleep(genesisDelay * 1000 + warmupSlots * slotMs);
    start = await snapshot(devnet);
    await sleep(measureSlots * slotMs);
    end = await snapshot(devnet);
    finalHealth = await devnet.pollAllPatiently();
  } finally {
    await devnet.stopAll();
  }
  const seconds = end.t - start.t;
  const slots = seconds / slotSeconds;
  const cpuOf = (a: ProcSample, b: ProcSample) => (b.cpuSeconds - a.cpuSeconds) / seconds;
  const ticks = mergedTickLateness(start, end);
  const reachable = finalHealth.filter((h): h is NodeHealth => h !== null);
  const lag = reachable.length === 0 ? Number.NaN : Math.max(...reachable.map((h) => h.head_slot - h.finalized_slot));
  const votes = (m: PromSamples) => ({
    sum: promValue(m, "metronome_block_votes_sum"),
    count: promValue(m, "metronome_block_votes_count"),
  });
  const voteSums = { sum: 0, count: 0 };
  end.metrics.forEach((m, i) => {
    const s = start?.metrics[i];
    if (!m || !s) return;
    voteSums.sum += votes(m).sum - votes(s).sum;
    voteSums.count += votes(m).count - votes(s).count;
  });
  const result: ConfigResult = {
    ...config,
    ok: true,
    reason: "",
    holdout,
    slotsMeasured: Math.round(slots * 10) / 10,
    committeeCount,
    cpuPerNode: perNode(start.procs, end.procs, cpuOf),
    aggregatorCpu: perNode(start.procs.slice(0, 1), end.procs.slice(0, 1), cpuOf),
    otherNodesCpu: perNode(start.procs.slice(1), end.procs.slice(1), cpuOf),
    mainThreadCpuPerNode: perNode(
      start.procs,
      end.procs,
      (a, b) => (b.mainThreadCpuSeconds - a.mainThreadCpuSeconds) / seconds,
    ),
    rssPerNodeMiB: mean(end.procs.flatMap((p) => (p ? [p.rssMiB] : []))),
    rxBytesPerNodePerSlot: perNode(start.procs, end.procs, (a, b) => (b.readBytes - a.readBytes) / slots),
    txBytesPerNodePerSlot: perNode(start.procs, end.procs, (a, b) => (b.writtenBytes - a.writtenBytes) / slots),
    gossipAcceptedPerNodePerSlot: perNode(
      start.metrics,
      end.metrics,
      (a, b) =>
        (promValue(b, "metronome_gossip_messages_total", { result: "accept" }) -
          promValue(a, "metronome_gossip_messages_total", { result: "accept" })) /
        slots,
    ),
    votesPerBlock: voteSums.count > 0 ? voteSums.sum / voteSums.count : Number.NaN,
    tickP99Ms: ticks ? histogramQuantile(ticks, 0.99) * 1000 : Number.NaN,
    tickMaxMs: ticks ? histogramMaxBound(ticks) * 1000 : Number.NaN,
    headMinusFinalized: lag,
    unreachable: config.nodes - reachable.length,
  };
  const finalizedAny = reachable.some((h) => h.finalized_slot > 0);
  if (result.unreachable > 0) Object.assign(result, { ok: false, reason: `${result.unreachable} node(s) unreachable` });
  else if (!finalizedAny) Object.assign(result, { ok: false, reason: "finality never left genesis" });
  else if (!(lag <= MAX_FINALITY_LAG)) Object.assign(result, { ok: false, reason: `head - finalized ${lag}` });
  else if (!(result.tickP99Ms <= MAX_TICK_P99_S * 1000))
    Object.assign(result, { ok: false, reason: `tick lateness p99 ${result.tickP99Ms.toFixed(0)} ms` });
  console.log(
    `  ${result.ok ? "carried" : `NOT carried (${result.reason})`}: cpu/node ${result.cpuPerNode.toFixed(3)}, head-finalized ${lag}, tick p99 ${result.tickP99Ms.toFixed(1)} ms`,
  );
  if (result.ok) await rm(out, { recursive: true, force: true });
  return result;
}

const sweep = values.configs
  .split(",")
  .map(parseConfig)
  .sort((a, b) => a.nodes * a.validators - b.nodes * b.validators || a.nodes - b.nodes);
const holdout = values.holdout ? parseConfig(values.holdout) : null;
const results: ConfigResult[] = [];
for (const config of sweep) {
  const r = await runConfig(config, false);
  results.push(r);
  if (!r.ok) {
    console.log(`  the machine cannot carry ${config.nodes}x${config.validators}: larger configurations skipped`);
    break;
  }
}
if (holdout !== null) results.push(await runConfig(holdout, true));

/**
 * Single votes per second a node of `c` handles, averaged over its nodes: each joins the subnets
 * attestationSubnetsToJoin gives it (node 0, the aggregator, all of them) and sees their votes.
 */
function singleVotesPerNodePerSecond(c: Config): number {
  const committeeCount = defaultCommitteeCount(c.nodes, undefined);
  const onSubnet = new Array<number>(committeeCount).fill(0);
  for (let v = 0; v < c.validators; v++) onSubnet[v % committeeCount] = (onSubnet[v % committeeCount] ?? 0) + 1;
  const handled = splitValidators(c.validators, c.nodes, committeeCount).map((validatorIndices, node) =>
    attestationSubnetsToJoin(committeeCount, { validatorIndices, isAggregator: node === 0 }).reduce(
      (sum, subnet) => sum + (onSubnet[subnet] ?? 0),
      0,
    ),
  );
  return mean(handled) / slotSeconds;
}

/** Model inputs: 1 (per-node base), single votes per second each node handles, peers per node. */
function features(c: Config): number[] {
  return [1, singleVotesPerNodePerSecond(c), c.nodes - 1];
}

/** The aggregator's inputs: it handles every vote. */
function aggregatorFeatures(c: Config): number[] {
  return [1, c.validators / slotSeconds, c.nodes - 1];
}
const fitted = results.filter((r) => r.ok && !r.holdout);
let model: { coefficients: number[]; r2: number } | null = null;
let aggregatorModel: { coefficients: number[]; r2: number } | null = null;
let holdoutCheck: { predicted: number; measured: number; errorPct: number } | null = null;
let projection: Record<string, number> | null = null;
if (fitted.length >= 3) {
  try {
    model = fitLinear(
      fitted.map(features),
      fitted.map((r) => r.cpuPerNode),
    );
    const mainModel = fitLinear(
      fitted.map(features),
      fitted.map((r) => r.mainThreadCpuPerNode),
    );
    aggregatorModel = fitLinear(
      fitted.map(aggregatorFeatures),
      fitted.map((r) => r.aggregatorCpu),
    );
    const rxModel = fitLinear(
      fitted.map(features),
      fitted.map((r) => r.rxBytesPerNodePerSlot),
    );
    const h = results.find((r) => r.holdout);
    if (h !== undefined) {
      const predicted = predict(model.coefficients, features(h));
      holdoutCheck = { predicted, measured: h.cpuPerNode, errorPct: (100 * (predicted - h.cpuPerNode)) / h.cpuPerNode };
    }
    projection = {
      nodes: PROJECTED.nodes,
      validators: PROJECTED.validators,
      cpuPerNode: predict(model.coefficients, features(PROJECTED)),
      aggregatorCpu: predict(aggregatorModel.coefficients, aggregatorFeatures(PROJECTED)),
      mainThreadCpuPerNode: predict(mainModel.coefficients, features(PROJECTED)),
      rxBytesPerNodePerSlot: predict(rxModel.coefficients, features(PROJECTED)),
    };
  } catch (err) {
    console.log(`cost model not fitted: ${(err as Error).message}`);
  }
}

const rows: Row[] = results.map((r) => ({
  config: `${r.nodes}x${r.validators}${r.holdout ? " (held out)" : ""}`,
  carried: r.ok ? "yes" : `no: ${r.reason}`,
  subnets: r.committeeCount,
  "cpu/node": r.cpuPerNode,
  "cpu aggregator": r.aggregatorCpu,
  "cpu other nodes": r.otherNodesCpu,
  "main thread/node": r.mainThreadCpuPerNode,
  "rss/node MiB": r.rssPerNodeMiB,
  "rx KiB/node/slot": r.rxBytesPerNodePerSlot / 1024,
  "tx KiB/node/slot": r.txBytesPerNodePerSlot / 1024,
  "gossip msgs/node/slot": r.gossipAcceptedPerNodePerSlot,
  "votes/block": r.votesPerBlock,
  "tick p99 ms": r.tickP99Ms,
  "tick max ms": r.tickMaxMs,
  "head-finalized": r.headMinusFinalized,
}));
printTable(`devnet scale, ${slotSeconds}s slots, ${measureSlots} measured slots after ${warmupSlots} warm-up`, rows);
if (model !== null) {
  const [base, perVote, perPeer] = model.coefficients as [number, number, number];
  console.log(
    `\ncpu per node (cores) = ${base.toFixed(4)} + ${(perVote * 1000).toFixed(3)}e-3 x single votes/s handled + ${(perPeer * 1000).toFixed(3)}e-3 x peers   (r2 ${model.r2.toFixed(3)}, ${fitted.length} configs)`,
  );
}
if (aggregatorModel !== null) {
  const [base, perVote, perPeer] = aggregatorModel.coefficients as [number, number, number];
  console.log(
    `aggregator cpu (cores) = ${base.toFixed(4)} + ${(perVote * 1000).toFixed(3)}e-3 x votes/s + ${(perPeer * 1000).toFixed(3)}e-3 x peers   (r2 ${aggregatorModel.r2.toFixed(3)})`,
  );
}
if (holdoutCheck !== null) {
  console.log(
    `held-out check: predicted ${holdoutCheck.predicted.toFixed(3)}, measured ${holdoutCheck.measured.toFixed(3)} cores per node (${holdoutCheck.errorPct.toFixed(0)}%)`,
  );
}
if (projection !== null) console.log(`projection to 100 nodes x 10,000 validators: ${JSON.stringify(projection)}`);

const path = writeResult(
  "devnetScale",
  { slotSeconds, warmupSlots, measureSlots, configs: values.configs, holdout: values.holdout },
  { results, model, aggregatorModel, holdoutCheck, projection },
);
const pngPath = join(dirname(path), "devnetScale.png");
const carried = results.filter((r) => Number.isFinite(r.cpuPerNode));
await writePng(
  {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Metronome devnet cost per node (${slotSeconds} s slots, ${carried[0] ? "2-core machine" : ""})`,
    data: {
      values: carried.flatMap((r) => [
        { votes: r.validators, nodes: `${r.nodes} nodes`, metric: "CPU per node (cores)", value: r.cpuPerNode },
        {
          votes: r.validators,
          nodes: `${r.nodes} nodes`,
          metric: "head - finalized (slots)",
          value: r.headMinusFinalized,
        },
        { votes: r.validators, nodes: `${r.nodes} nodes`, metric: "tick lateness p99 (ms)", value: r.tickP99Ms },
      ]),
    },
    columns: 3,
    facet: { field: "metric", type: "nominal", title: null },
    spec: {
      width: 260,
      height: 200,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "votes", type: "quantitative", scale: { type: "log" }, title: "validators (votes per slot)" },
        y: { field: "value", type: "quantitative", title: null },
        color: { field: "nodes", type: "nominal", title: "devnet" },
      },
    },
    resolve: { scale: { y: "independent" } },
  },
  pngPath,
);
console.log(`\nwritten ${path}\nwritten ${pngPath}`);
// A sweep that stopped early is a finding, not a failure of the benchmark.
process.exitCode = results.length > 0 ? 0 : 1;

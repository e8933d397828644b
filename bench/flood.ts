// The gossip-flood benchmark: does a node keep time while peers flood it?
//   1. measure this machine's signature-verification capacity on each flood mix's own sets (flood
//      rates are multiples of it, so a 2x flood overloads verification by design);
//   2. start a 4-node devnet (one process per node), wait for finality;
//   3. watch node 0 (the aggregator) through its /metrics and /lean/v0/health over the planned
//      periods (lib/floodPlan.ts): no flood; one single-peer flood per --rates multiple (the
//      capacity curve); a Sybil flood from --sybil-peers identities; the valid-signature flood
//      with peer scoring on and off; then (unless --skip-ablation) node 0 restarted without its
//      bounds. Each flood is followed by a quiet recovery period.
// Prints one table (a column per period), writes bench/results/flood.json and flood.png (tick
// lateness and finality gap against the flood rate).
//   node bench/flood.ts [--flood-seconds 300] [--baseline-seconds 60] [--rates 2] [--rate N]
//     [--mix ...] [--sybil-peers 16] [--sybil-multiple 2] [--skip-scoring-pair] [--scoring on|off]
//     [--slot-seconds 4] [--validators 32] [--skip-ablation] [--ablation-seconds 90]
//     [--pin-others 1] [--nice-others 10] [--keep]

import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { defaultWorkerCount } from "../packages/bls/src/pool.ts";
import { BLS_WORKER_NICE_OFFSET } from "../packages/clock/src/threadPriority.ts";
import { measureVerificationCapacity } from "../packages/flood/src/capacity.ts";
import {
  DEFAULT_MIX_TEXT,
  formatMix,
  MixError,
  mixShare,
  parseMix,
  VERIFIED_KINDS,
} from "../packages/flood/src/mix.ts";
import { TargetProbe } from "../packages/flood/src/targetProbe.ts";
import { benchOptions } from "./lib/benchArgs.ts";
import { createBenchDevnet } from "./lib/benchDevnet.ts";
import { CpuListError, parseCpuList, pinProcess } from "./lib/cpuPinning.ts";
import { compareAblations, printAblations } from "./lib/floodAblation.ts";
import {
  ablationReference,
  mixesOf,
  PlanError,
  type PlannedPeriod,
  parseRates,
  parseScoring,
  plannedSeconds,
  planPeriods,
  rateForMultiple,
  VALID_MIX,
} from "./lib/floodPlan.ts";
import { curveSpec } from "./lib/floodPlot.ts";
import { curvePoints, floodResultsJson, floodRows, type MixCapacity } from "./lib/floodReport.ts";
import { FloodRunner, type PeriodResult, waitFor } from "./lib/floodRunner.ts";
import { machineInfo } from "./lib/machine.ts";
import { NiceOffsetError, niceCommand, parseNiceOffset } from "./lib/niceOthers.ts";
import { writePng } from "./lib/plot.ts";
import { formatTable, writeResult } from "./lib/report.ts";

const values = benchOptions(import.meta.url, {
  "flood-seconds": { type: "string", default: "300" },
  "baseline-seconds": { type: "string", default: "60" },
  // 60 s: the issue's "RSS back within 50 MiB of its pre-flood figure 60 s after the flood ends".
  "recovery-seconds": { type: "string", default: "60" },
  "ablation-seconds": { type: "string", default: "90" },
  "skip-ablation": { type: "boolean", default: false },
  rates: { type: "string", default: "2" },
  rate: { type: "string" },
  mix: { type: "string", default: DEFAULT_MIX_TEXT },
  "sybil-peers": { type: "string", default: "16" },
  "sybil-multiple": { type: "string", default: "2" },
  "skip-scoring-pair": { type: "boolean", default: false },
  "pair-multiple": { type: "string", default: "2" },
  "ablation-multiple": { type: "string", default: "2" },
  scoring: { type: "string", default: "on" },
  "slot-seconds": { type: "string", default: "4" },
  validators: { type: "string", default: "32" },
  nodes: { type: "string", default: "4" },
  "sample-seconds": { type: "string", default: "2" },
  // Under a flood RSS climbs for ~90 s while the 24 s gossip caches and the bounded queues fill (the
  // memory series in the JSON shows it), then levels off: growth is measured from 120 s.
  "warmup-seconds": { type: "string", default: "120" },
  "capacity-sets": { type: "string", default: "1024" },
  // e.g. 1: the other nodes and the flooder run on CPU 1 only, so node 0 has CPU 0 to itself
  // (and shares CPU 1); without it all of them share every core.
  "pin-others": { type: "string" },
  // e.g. 10: the other nodes and the flooder run 10 nice steps below node 0 (they stand in for
  // other machines) and still get every cycle node 0 leaves; 0 (default): one priority for all.
  "nice-others": { type: "string", default: "0" },
  keep: { type: "boolean", default: false },
});

/** The errors a bad option raises (usage() below turns them into one line and exit code 2). */
const USAGE_ERRORS = [PlanError, MixError, CpuListError, NiceOffsetError];
const pinOthers = values["pin-others"] === undefined ? null : usage(() => parseCpuList(values["pin-others"] as string));
const niceOthers = usage(() => parseNiceOffset(values["nice-others"]));
const slotSeconds = Number(values["slot-seconds"]);
const validatorCount = Number(values.validators);
const nodeCount = Number(values.nodes);
const warmupS = Number(values["warmup-seconds"]);
const mixText = usage(() => formatMix(parseMix(values.mix)));
const planOptions = usage(() => ({
  baselineS: Number(values["baseline-seconds"]),
  floodS: Number(values["flood-seconds"]),
  recoveryS: Number(values["recovery-seconds"]),
  rates: parseRates(values.rates),
  scoring: parseScoring(values.scoring),
  fixedRate: values.rate === undefined ? null : Number(values.rate),
  mix: mixText,
  sybilPeers: Number(values["sybil-peers"]),
  sybilMultiple: Number(values["sybil-multiple"]),
  scoringPair: !values["skip-scoring-pair"],
  pairMultiple: Number(values["pair-multiple"]),
  ablation: !values["skip-ablation"],
  ablationS: Number(values["ablation-seconds"]),
  ablationMultiple: Number(values["ablation-multiple"]),
}));
const plan = usage(() => planPeriods(planOptions));

/** A bad option is a one-line error and exit code 2, not a stack trace. */
function usage<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof Error) || !USAGE_ERRORS.some((kind) => err instanceof kind)) throw err;
    console.error(`flood bench: ${err.message}`);
    process.exit(2);
  }
}

const loadAtStart = readLoad();

function log(line: string): void {
  console.log(`[flood bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

log(
  `plan: ${plan.map((p) => `${p.name} (${p.seconds} s)`).join(", ")}; about ${Math.ceil(plannedSeconds(plan) / 60)} min of periods`,
);

// ---- 1. capacity, per mix ------------------------------------------------------------------

const workers = defaultWorkerCount();
const capacities: MixCapacity[] = [];
for (const mix of mixesOf(plan)) {
  log(`measuring verification capacity on the sets of mix ${mix} (${workers} worker(s), as the node runs)...`);
  const parsed = parseMix(mix);
  const capacity = await measureVerificationCapacity({
    validatorCount,
    mix: parsed,
    sets: Number(values["capacity-sets"]),
    workers,
  });
  capacities.push({ mix, capacity, verifiedShare: mixShare(parsed, VERIFIED_KINDS) });
  log(
    `  pool ${capacity.poolSetsPerSec.toFixed(0)} sets/s, same batch code on one thread ${capacity.sameBatchBlstSetsPerSec.toFixed(0)} sets/s idle, ` +
      `${capacity.sameBatchBlstOtherCoresBusySetsPerSec.toFixed(0)} sets/s with the other cores busy (${(capacity.validFraction * 100).toFixed(0)}% valid)`,
  );
}

function rateOf(p: PlannedPeriod): number {
  const f = p.flood as NonNullable<PlannedPeriod["flood"]>;
  if (f.rate !== null) return f.rate;
  const c = capacities.find((x) => x.mix === f.mix) as MixCapacity;
  return rateForMultiple(f.multiple as number, c.capacity.poolSetsPerSec, c.verifiedShare);
}
for (const p of plan) if (p.flood !== null) log(`  ${p.name}: ${rateOf(p)} msgs/s`);

// ---- 2. devnet -----------------------------------------------------------------------------

const { out, genesisDir, devnet } = await createBenchDevnet({
  name: "flood",
  nodes: nodeCount,
  validators: validatorCount,
  slotSeconds,
  genesisDelay: 3 + 2 * nodeCount,
  wrapCommand: (entry, file, args) => (entry.nodeId === 0 ? { file, args } : niceCommand(niceOthers, file, args)),
});
const target = devnet.nodes[0];
if (target === undefined) throw new Error("no node 0");
const healthUrl = `http://127.0.0.1:${target.entry.httpPort}/lean/v0/health`;
const probe = new TargetProbe({
  metricsUrl: `http://127.0.0.1:${target.entry.metricsPort}/metrics`,
  healthUrl,
  intervalMs: Number(values["sample-seconds"]) * 1000,
  pid: () => target.child?.pid ?? undefined,
  verifierNiceOffset: BLS_WORKER_NICE_OFFSET,
});
const startArgs = plan[0]?.nodeArgs ?? [];
const runner = new FloodRunner({
  devnet,
  target,
  targetAddr: `${target.entry.listen}/p2p/${target.entry.peerId}`,
  genesisDir,
  out,
  probe,
  healthUrl,
  slotSeconds,
  warmupS,
  nodeArgs: startArgs,
  log,
  pinOthers,
  niceOthers,
});
process.once("exit", () => {
  for (const c of runner.children) c.kill("SIGKILL");
  for (const n of devnet.nodes) n.child?.kill("SIGKILL");
});

// ---- 3. periods ----------------------------------------------------------------------------

const results: PeriodResult[] = [];
let failure: unknown = null;
try {
  for (const n of devnet.nodes) devnet.start(n, n === target ? [...startArgs] : []);
  if (pinOthers !== null) {
    for (const n of devnet.nodes) {
      if (n === target || n.child?.pid === undefined) continue;
      const failure = pinProcess(n.child.pid, pinOthers);
      if (failure !== null) throw new Error(`--pin-others: ${failure}`);
    }
    log(`nodes 1-${nodeCount - 1} and the flooder pinned to CPU ${pinOthers}; node 0 unpinned`);
  }
  if (niceOthers > 0) log(`nodes 1-${nodeCount - 1} and the flooder run ${niceOthers} nice steps below node 0`);
  log(`devnet: ${nodeCount} nodes, ${validatorCount} validators, ${slotSeconds} s slots, logs in ${out}`);
  await waitFor("finality on node 0", 180_000, async () => ((await runner.health())?.finalized_slot ?? 0) >= 3);
  probe.start();
  for (const p of plan) results.push(p.flood === null ? await runner.quiet(p) : await runner.flood(p, rateOf(p)));
} catch (err) {
  failure = err;
  log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  probe.stop();
  await devnet.stopAll(5_000);
}

// ---- report --------------------------------------------------------------------------------

const rows = floodRows(results, capacities, warmupS);
const m = machineInfo();
console.log(
  `\n## Gossip flood on node 0 (aggregator): ${nodeCount} nodes, ${validatorCount} validators, ${slotSeconds} s slots\n`,
);
console.log(
  `machine: ${m.nproc} cpus, ${m.cpuModel}, node ${m.node}, load average at the start ${loadAtStart}, at the end ${readLoad()}`,
);
console.log(
  pinOthers === null
    ? "cores: every process shares every core"
    : `cores: nodes 1-${nodeCount - 1} and the flooder pinned to CPU ${pinOthers}, node 0 unpinned`,
);
console.log(
  niceOthers === 0
    ? "priority: every process at the same nice value"
    : `priority: nodes 1-${nodeCount - 1} and the flooder ${niceOthers} nice steps below node 0`,
);
console.log(`--mix: ${mixText}\n`);
console.log(formatTable(rows));
const ablation = compareAblations(results, ablationReference(planOptions));
printAblations(ablation);
const path = writeResult(
  "flood",
  { ...values, plan, mix: mixText, validMix: VALID_MIX, loadAverageAtStart: loadAtStart, loadAverageAfter: readLoad() },
  floodResultsJson(results, capacities, rows, { ablation, failure: failure ? String(failure) : null }),
);
const pngPath = join(dirname(path), "flood.png");
const curve = curvePoints(results);
if (curve.length > 1) {
  const mixName = mixText === formatMix(parseMix(DEFAULT_MIX_TEXT)) ? "default mix" : "mix of --mix";
  await writePng(
    curveSpec(curve, `Node 0 under a single-peer flood (${mixName}), ${slotSeconds} s slots, ${m.nproc} cpus`),
    pngPath,
  );
  console.log(`\nwritten ${path}\nwritten ${pngPath}`);
} else {
  console.log(`\nwritten ${path} (no plot: the curve needs the no-flood period and at least one flood)`);
}
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

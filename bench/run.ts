// `node bench/run.ts [name ...] [--option ...]`: every benchmark (bench/*.ts, except the long on-demand ones) in sequence, each in its own
// process so one's heap and JIT state do not colour the next. Exits non-zero if any one fails.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { splitBenchArgs } from "./lib/benchArgs.ts";
import { machineInfo } from "./lib/machine.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** Consensus-core benchmarks first; any other bench/*.ts joins the run in name order. */
const FIRST = ["blockImport", "attestationVerify"];
/** Long runs (minutes of devnet) run only when named: `node bench/run.ts devnetSoak`. */
const ON_DEMAND = ["devnetSoak", "flood", "devnetScale", "httpHostile", "hostilePeer"];

function discoverBenches(): string[] {
  const found = readdirSync(here)
    .filter((f) => f.endsWith(".ts") && f !== "run.ts")
    .map((f) => f.slice(0, -".ts".length));
  const rest = found.filter((n) => !FIRST.includes(n)).sort();
  return [...FIRST.filter((n) => found.includes(n)), ...rest];
}

function main(argv: string[]): number {
  const benches = discoverBenches();
  const { names, passThrough } = splitBenchArgs(argv);
  const unknown = names.filter((a) => !benches.includes(a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${benches.join(", ")}`);
    return 2;
  }
  if (passThrough.length > 0 && names.length === 0) {
    console.error(`options (${passThrough.join(" ")}) need a benchmark name: they go to the named benchmarks only`);
    return 2;
  }
  const selected = names.length > 0 ? names : benches.filter((b) => !ON_DEMAND.includes(b));
  const m = machineInfo();
  console.log(
    `machine: ${m.nproc} cpus, ${m.cpuModel}, ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}, load ${m.loadAverage1m}`,
  );
  let failed = 0;
  for (const name of selected) {
    console.log(`\n# ${name}`);
    const started = performance.now();
    const r = spawnSync(process.execPath, [join(here, `${name}.ts`), ...passThrough], { stdio: "inherit" });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (r.status !== 0) {
      failed++;
      console.error(`${name} failed (${r.error?.message ?? r.signal ?? `exit ${r.status}`}) after ${seconds} s`);
    } else {
      console.log(`(${name}: ${seconds} s)`);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));

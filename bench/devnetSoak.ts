// A devnet soak: K real node processes on loopback for a set time, sampling each process's CPU time
// and RSS from /proc and each node's health (head, finalized, missed intervals). Prints per-node
// CPU %, memory and finality lag, and writes bench/results/devnetSoak.json.
//   node bench/devnetSoak.ts [--duration 300] [--slot-seconds 4] [--nodes 4] [--validators 32]

import { rm } from "node:fs/promises";
import { benchOptions } from "./lib/benchArgs.ts";
import { createBenchDevnet } from "./lib/benchDevnet.ts";
import { procSample } from "./lib/procStats.ts";
import { printTable, type Row, writeResult } from "./lib/report.ts";

const values = benchOptions(import.meta.url, {
  duration: { type: "string", default: "300" },
  "slot-seconds": { type: "string", default: "4" },
  nodes: { type: "string", default: "4" },
  validators: { type: "string", default: "32" },
  "sample-seconds": { type: "string", default: "5" },
});
const durationS = Number(values.duration);
const slotSeconds = Number(values["slot-seconds"]);
const nodeCount = Number(values.nodes);
const sampleMs = Number(values["sample-seconds"]) * 1000;

interface Sample {
  t: number;
  cpuSeconds: number;
  rssMiB: number;
  headSlot: number;
  finalizedSlot: number;
  currentSlot: number;
  missed: number;
}

const { out, nodes, devnet } = await createBenchDevnet({
  name: "soak",
  nodes: nodeCount,
  validators: Number(values.validators),
  slotSeconds,
  genesisDelay: 5,
});
devnet.startAll();
console.log(`soak: ${nodeCount} nodes, ${slotSeconds}s slots, ${durationS}s, output in ${out}`);

const samples: Sample[][] = nodes.map(() => []);
const started = Date.now();
try {
  while (Date.now() - started < durationS * 1000) {
    await new Promise((r) => setTimeout(r, sampleMs));
    const healths = await devnet.pollAll();
    const procs = await Promise.all(devnet.nodes.map((n) => (n.child?.pid ? procSample(n.child.pid) : null)));
    devnet.nodes.forEach((_, i) => {
      const proc = procs[i];
      const h = healths[i];
      if (proc && h) {
        samples[i]?.push({
          t: (Date.now() - started) / 1000,
          cpuSeconds: proc.cpuSeconds,
          rssMiB: proc.rssMiB,
          headSlot: h.head_slot,
          finalizedSlot: h.finalized_slot,
          currentSlot: h.current_slot,
          missed: h.intervals_missed,
        });
      }
    });
  }
} finally {
  await devnet.stopAll();
}

const rows: Row[] = samples.map((s, i): Row => {
  const first = s[0];
  const last = s[s.length - 1];
  if (!first || !last) return { node: i, samples: 0 };
  const finalized = s.filter((x) => x.finalizedSlot > 0);
  const lags = finalized.map((x) => x.currentSlot - x.finalizedSlot);
  const afterWarmup = s.filter((x) => x.t >= 60);
  return {
    node: i,
    samples: s.length,
    "cpu %": (100 * (last.cpuSeconds - first.cpuSeconds)) / (last.t - first.t),
    "rss start MiB": first.rssMiB,
    "rss end MiB": last.rssMiB,
    "rss max MiB": Math.max(...s.map((x) => x.rssMiB)),
    "rss growth after 60s MiB":
      afterWarmup.length > 1 ? (afterWarmup.at(-1)?.rssMiB ?? 0) - (afterWarmup[0]?.rssMiB ?? 0) : Number.NaN,
    "final slot": last.currentSlot,
    finalized: last.finalizedSlot,
    "finality lag mean": lags.length ? lags.reduce((a, b) => a + b, 0) / lags.length : Number.NaN,
    "finality lag max": lags.length ? Math.max(...lags) : Number.NaN,
    "missed intervals": last.missed,
  };
});
printTable(`devnet soak: ${nodeCount} nodes, ${slotSeconds}s slots, ${durationS}s`, rows);
const path = writeResult(
  "devnetSoak",
  { durationS, slotSeconds, nodeCount, validators: Number(values.validators) },
  { rows, samples },
);
console.log(`\nwritten ${path}`);
// Keep the logs when a node could not be sampled, so the reason can be read.
if (samples.some((s) => s.length === 0)) console.log(`a node was never sampled; logs kept in ${out}`);
else await rm(out, { recursive: true, force: true });

// `metronome devnet`: fresh genesis a few seconds ahead, K node processes, a live status table,
// Ctrl-C to stop; with --duration it stops itself, writes summary.json and exits 1 if finality
// failed or the nodes disagree.
import { rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Devnet } from "../devnet/launcher.ts";
import { renderStatusTable } from "../devnet/statusTable.ts";
import { summarize } from "../devnet/summary.ts";
import { topologyArgs } from "../devnet/topology.ts";
import { runGenesis } from "./genesisCommand.ts";

export interface DevnetOptions {
  nodes: number;
  validators: number;
  slotSeconds: number;
  /** Default: defaultGenesisDelay(nodes). */
  genesisDelay?: number;
  duration?: number;
  out: string;
  basePort: number;
  baseHttpPort: number;
  baseMetricsPort: number;
  aggregators: number;
  /** Each node dials only its next `ring` nodes (default: every node dials every other). */
  ring?: number;
  meshDegree?: number;
  quiet?: boolean;
  logLevel: string;
}

/** Seconds a devnet waits for genesis by default: at least 8. */
const MIN_GENESIS_DELAY_S = 8;
/**
 * Node processes boot concurrently and each needs 1-2 s of CPU (module loading, keys, LevelDB): on
 * a 2-core machine 16 of them take ~20 s, and a node still booting at genesis starts out late.
 */
const GENESIS_DELAY_PER_NODE_S = 2;

export function defaultGenesisDelay(nodes: number): number {
  return Math.max(MIN_GENESIS_DELAY_S, 3 + GENESIS_DELAY_PER_NODE_S * nodes);
}

export async function runDevnet(o: DevnetOptions): Promise<number> {
  const genesisDelay = o.genesisDelay ?? defaultGenesisDelay(o.nodes);
  const outDir = resolve(o.out);
  // A devnet is a new chain every time: stale data dirs of an old genesis would be refused anyway.
  rmSync(outDir, { recursive: true, force: true });
  const genesisDir = join(outDir, "genesis");
  const { chain, nodes } = await runGenesis({
    validators: o.validators,
    nodes: o.nodes,
    out: genesisDir,
    genesisDelay,
    slotSeconds: o.slotSeconds,
    basePort: o.basePort,
    baseHttpPort: o.baseHttpPort,
    baseMetricsPort: o.baseMetricsPort,
    aggregators: o.aggregators,
    host: "127.0.0.1",
  });
  console.log(
    `devnet: ${o.nodes} nodes, ${o.validators} validators, ${o.slotSeconds}s slots, genesis in ${genesisDelay}s (fork ${chain.forkDigest}); logs in ${outDir}/node-*/node.log`,
  );
  const devnet = new Devnet(nodes, {
    genesisDir,
    outDir,
    logLevel: o.logLevel,
    extraArgs: (entry) => topologyArgs(nodes, entry, { ring: o.ring, meshDegree: o.meshDegree }),
  });
  devnet.startAll();

  let stopping = false;
  const stopped = new Promise<void>((resolveStop) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      console.log("\ndevnet: stopping nodes...");
      resolveStop();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (o.duration !== undefined) setTimeout(onSignal, o.duration * 1000).unref();
  });

  const interactive = process.stdout.isTTY && !o.quiet;
  let lastPrintedSlot = -1;
  const poller = setInterval(async () => {
    if (stopping || o.quiet) return;
    const healths = await devnet.pollAll();
    const table = renderStatusTable(
      devnet.nodes.map((n, i) => ({ nodeId: n.entry.nodeId, health: healths[i] ?? null, exited: n.exit ?? undefined })),
    );
    if (interactive) {
      process.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString()}  (Ctrl-C to stop)\n${table}\n`);
    } else {
      const slot = Math.max(...healths.map((h) => h?.current_slot ?? -1));
      if (slot !== lastPrintedSlot) {
        lastPrintedSlot = slot;
        console.log(`${table}\n`);
      }
    }
  }, 1000);

  await stopped;
  clearInterval(poller);
  const finalHealth = await devnet.pollAllPatiently();
  const summary = await summarize(
    finalHealth,
    devnet.nodes.map((n) => n.entry.nodeId),
    async (index, slot) => {
      const node = devnet.nodes[index];
      if (!node) return null;
      try {
        const res = await fetch(`http://127.0.0.1:${node.entry.httpPort}/eth/v1/beacon/headers/${slot}`, {
          signal: AbortSignal.timeout(2000),
        });
        if (!res.ok) return null;
        const body = (await res.json()) as { data?: { root?: string } };
        return body.data?.root ?? null;
      } catch {
        return null;
      }
    },
  );
  await devnet.stopAll();
  await writeFile(join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    renderStatusTable(devnet.nodes.map((n, i) => ({ nodeId: n.entry.nodeId, health: finalHealth[i] ?? null }))),
  );
  console.log(
    `devnet: finality ${summary.finality_advanced ? "advanced" : "DID NOT ADVANCE"}, finalized roots ${summary.finalized_agree ? "agree" : "DISAGREE"}; summary in ${join(outDir, "summary.json")}`,
  );
  for (const note of summary.notes) console.log(`devnet: ${note}`);
  // The exit code only judges a run with a set duration; an operator's Ctrl-C is a clean stop.
  return o.duration !== undefined && !summary.ok ? 1 : 0;
}

// `metronome devnet`: fresh genesis a few seconds ahead, K node processes, a live status table,
// Ctrl-C to stop; with --duration it stops itself, writes summary.json and exits 1 if finality
// failed or the nodes disagree.
import { rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { runGenesis } from "./genesisCommand.ts";
import { fetchHeaderRootPatiently, stopRequested } from "./health.ts";
import { Devnet, type LaunchOptions } from "./launcher.ts";
import { addressOf } from "./netnsPlan.ts";
import type { NetnsNetwork } from "./netnsRuntime.ts";
import { describeConflicts, findPortConflicts } from "./portProbe.ts";
import { devnetPorts, validateDevnetPorts } from "./ports.ts";
import { renderStatusTable } from "./statusTable.ts";
import { defaultCommitteeCount } from "./subnets.ts";
import { rootsVerdict, summarize } from "./summary.ts";
import { topologyArgs } from "./topology.ts";

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
  /** Attestation subnets; default defaultCommitteeCount(nodes, ring). */
  committeeCount?: number;
  /** Each node dials only its next `ring` nodes (default: every node dials every other). */
  ring?: number;
  meshDegree?: number;
  quiet?: boolean;
  logLevel: string;
  /** process: child processes here; docker: a compose project of the metronome image. */
  runtime?: "process" | "docker";
  /** Each node in its own network namespace and address (root only; process runtime). */
  netns?: boolean;
  /** docker runtime: Prometheus listen port on 127.0.0.1 (0: no Prometheus). */
  prometheusPort?: number;
  /** docker runtime: the node image. */
  image?: string;
  /** docker runtime: the Prometheus image. */
  prometheusImage?: string;
}

/** Loopback address every devnet node listens on. */
const DEVNET_HOST = "127.0.0.1";

export class DevnetPortsInUseError extends Error {
  constructor(lines: string[]) {
    super(
      `devnet: ports it needs are in use (another devnet or node still running?):\n  ${lines.join("\n  ")}\n` +
        "stop that process, or pick other ports with --base-port, --base-http-port and --base-metrics-port",
    );
    this.name = "DevnetPortsInUseError";
  }
}

/**
 * Fails before anything is written when a port a node needs is taken: started next to another
 * devnet, the nodes would die on bind while the status table read the other devnet's nodes, and
 * the output folder (perhaps the running devnet's own) would be wiped.
 */
export async function checkDevnetPortsFree(o: DevnetOptions): Promise<void> {
  validateDevnetPorts(o);
  const conflicts = await findPortConflicts(DEVNET_HOST, devnetPorts(o));
  if (conflicts.length > 0) throw new DevnetPortsInUseError(describeConflicts(conflicts));
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
  // Namespaced nodes bind their own addresses, so only loopback runs can collide with a devnet
  // already running here; every run refuses blocked or overlapping ports.
  if (o.netns) validateDevnetPorts(o);
  else await checkDevnetPortsFree(o);
  if (o.runtime === "docker") {
    if (o.netns) throw new Error("--netns runs node processes; it does not combine with --runtime docker");
    const { runDockerDevnet } = await import("./dockerRuntime.ts");
    return runDockerDevnet({ ...o, genesisDelay: o.genesisDelay ?? defaultGenesisDelay(o.nodes) });
  }
  let netns: NetnsNetwork | null = null;
  // From before the network exists until the run's own handlers take over, a SIGINT/SIGTERM is
  // held (not fatal) so the network is always torn down; the run then stops at once.
  let signalledEarly = false;
  const hold = () => {
    signalledEarly = true;
  };
  if (o.netns) {
    process.on("SIGINT", hold);
    process.on("SIGTERM", hold);
  }
  try {
    if (o.netns) {
      const { NetnsNetwork } = await import("./netnsRuntime.ts");
      netns = NetnsNetwork.create(
        Array.from({ length: o.nodes }, (_, i) => i),
        (line) => console.log(`devnet: ${line}`),
      );
      console.log(
        `devnet: netns bridge ${netns.plan.bridge} ${netns.plan.bridgeAddress}; ${netns.plan.nodes.map((n) => `node ${n.nodeId} ${n.address} (${n.namespace})`).join(", ")}`,
      );
    }
    return await runProcessDevnet(o, netns, () => signalledEarly);
  } finally {
    process.removeListener("SIGINT", hold);
    process.removeListener("SIGTERM", hold);
    if (netns) {
      const left = netns.teardown();
      console.log(
        left.length === 0
          ? "devnet: netns removed (no namespace, link or rule left)"
          : `devnet: netns teardown LEFT ${left.join(", ")}`,
      );
    }
  }
}

async function runProcessDevnet(
  o: DevnetOptions,
  netns: NetnsNetwork | null,
  signalledEarly: () => boolean,
): Promise<number> {
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
    committeeCount: o.committeeCount ?? defaultCommitteeCount(o.nodes, o.ring),
    host: DEVNET_HOST,
    hostOf: netns ? addressOf : undefined,
  });
  console.log(
    `devnet: ${o.nodes} nodes, ${o.validators} validators, ${chain.attestationCommitteeCount} attestation subnet(s), ${o.slotSeconds}s slots, genesis in ${genesisDelay}s (fork ${chain.forkDigest}); logs in ${outDir}/node-*/node.log`,
  );
  console.log(
    `devnet: node K listens on libp2p ${o.basePort}+K, HTTP API ${o.baseHttpPort}+K, metrics ${o.baseMetricsPort}+K`,
  );
  const topology = { ring: o.ring, meshDegree: o.meshDegree };
  const launch: LaunchOptions = {
    genesisDir,
    outDir,
    logLevel: o.logLevel,
    forkDigest: chain.forkDigest,
    extraArgs: (entry) => topologyArgs(nodes, entry, topology),
  };
  if (netns) {
    const ns = netns;
    // The node binds its HTTP and metrics on its namespace address so the host reaches it over the bridge.
    launch.extraArgs = (entry) => [...topologyArgs(nodes, entry, topology), "--http-host", addressOf(entry.nodeId)];
    launch.httpHost = (entry) => addressOf(entry.nodeId);
    launch.wrapCommand = (entry, file, args) => ns.wrap(entry.nodeId, file, args);
  }
  const devnet = new Devnet(nodes, launch);
  devnet.startAll();

  let stopping = false;
  const stopped = stopRequested({
    message: "\ndevnet: stopping nodes...",
    durationS: o.duration,
    alreadyRequested: signalledEarly(),
  }).then(() => {
    stopping = true;
  });

  const interactive = process.stdout.isTTY && !o.quiet;
  let lastPrintedSlot = -1;
  const poller = setInterval(async () => {
    if (stopping || o.quiet) return;
    const healths = await devnet.pollAll();
    const table = renderStatusTable(
      devnet.nodes.map((n, i) => ({
        nodeId: n.entry.nodeId,
        health: healths[i] ?? null,
        exited: n.exit ?? n.foreign ?? undefined,
      })),
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
      return node ? fetchHeaderRootPatiently(devnet.apiBase(node), slot) : null;
    },
  );
  for (const n of devnet.nodes) {
    if (n.foreign !== null)
      summary.notes.push(`node ${n.entry.nodeId}: its HTTP port answered for another node (${n.foreign})`);
  }
  await devnet.stopAll();
  await writeFile(join(outDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    renderStatusTable(
      devnet.nodes.map((n, i) => ({
        nodeId: n.entry.nodeId,
        health: finalHealth[i] ?? null,
        exited: n.foreign ?? undefined,
      })),
    ),
  );
  console.log(
    `devnet: finality ${summary.finality_advanced ? "advanced" : "DID NOT ADVANCE"}, finalized roots ${rootsVerdict(summary)}; summary in ${join(outDir, "summary.json")}`,
  );
  for (const note of summary.notes) console.log(`devnet: ${note}`);
  // The exit code only judges a run with a set duration; an operator's Ctrl-C is a clean stop.
  return o.duration !== undefined && !summary.ok ? 1 : 0;
}

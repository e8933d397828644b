// `metronome node`: resolves flags against the genesis folder, runs the node until SIGTERM/SIGINT.
// Uncaught errors log and exit non-zero: restart authority belongs to the external supervisor.

import { resolve } from "node:path";
import { readGenesisFolder, readNodeKey } from "../config/genesisConfig.ts";
import type { NodeOptions } from "../node/options.ts";
import { type LogFormat, Logger, type LogLevel } from "../util/logger.ts";
import { exitOnUncaughtErrors, runUntilSignal } from "./processLifecycle.ts";

export interface NodeCommandFlags {
  genesis: string;
  nodeId: number;
  dataDir: string;
  listen?: string;
  bootnodes?: string[];
  validatorIndices?: number[];
  isAggregator?: boolean;
  validators: boolean;
  httpPort?: number;
  metricsPort?: number;
  httpHost: string;
  blsWorkers?: number;
  maxBatch: number;
  gossipMeshDegree?: number;
  checkpointSyncUrl?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export async function resolveNodeOptions(flags: NodeCommandFlags): Promise<NodeOptions> {
  const genesis = await readGenesisFolder(resolve(flags.genesis));
  const entry = genesis.nodes.find((n) => n.nodeId === flags.nodeId);
  if (!entry && genesis.nodes.length > 0) {
    throw new Error(
      `--node-id ${flags.nodeId} is not in ${flags.genesis}/nodes.json (ids: ${genesis.nodes.map((n) => n.nodeId).join(", ")})`,
    );
  }
  const validatorIndices = flags.validators ? (flags.validatorIndices ?? entry?.validatorIndices ?? []) : [];
  for (const i of validatorIndices) {
    if (i >= genesis.chain.validators.length) throw new Error(`--validator-indices: ${i} is not a genesis validator`);
  }
  const ownPeerId = entry?.peerId;
  return {
    chain: genesis.chain,
    nodeId: flags.nodeId,
    identitySeed: await readNodeKey(genesis.dir, flags.nodeId),
    dataDir: resolve(flags.dataDir),
    listen: flags.listen ?? entry?.listen ?? "/ip4/127.0.0.1/tcp/9000",
    // A node never dials itself.
    bootnodes: (flags.bootnodes ?? genesis.bootnodes).filter((b) => !ownPeerId || !b.endsWith(`/p2p/${ownPeerId}`)),
    validatorIndices,
    isAggregator: flags.isAggregator ?? entry?.isAggregator ?? false,
    httpHost: flags.httpHost,
    blsWorkers: flags.blsWorkers,
    checkpointSyncUrl: flags.checkpointSyncUrl,
    maxBatch: flags.maxBatch === 0 ? Number.POSITIVE_INFINITY : flags.maxBatch,
    httpPort: flags.httpPort ?? entry?.httpPort ?? 5052,
    metricsPort: flags.metricsPort ?? entry?.metricsPort ?? 8008,
    gossipMeshDegree: flags.gossipMeshDegree,
  };
}

export async function runNodeCommand(flags: NodeCommandFlags): Promise<void> {
  const logger = new Logger({ level: flags.logLevel, format: flags.logFormat });
  exitOnUncaughtErrors(logger);
  const options = await resolveNodeOptions(flags);
  const { BeaconNode } = await import("../node/beaconNode.ts");
  await runUntilSignal(logger, () => BeaconNode.start(options, logger));
}

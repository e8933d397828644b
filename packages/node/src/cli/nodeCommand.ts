// `metronome node`: resolves flags against the genesis folder, runs the node until SIGTERM/SIGINT.
// Uncaught errors log and exit non-zero: restart authority belongs to the external supervisor.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  assertFetchablePort,
  assertFetchableUrl,
  ConfigError,
  type LogFormat,
  Logger,
  type LogLevel,
  readGenesisFolder,
  readNodeKey,
  runsOnGlibc,
  runtimeFlagsShortfall,
} from "@metronome/common";
import { exportRecordToFile, importRecordFromFile } from "@metronome/validator";
import type { NetworkThread, NodeOptions } from "../node/options.ts";
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
  validatorApi?: boolean;
  apiTokenFile?: string;
  blsWorkers?: number;
  maxBatch: number;
  gossipMeshDegree?: number;
  networkThread: NetworkThread;
  debugSigusr2KillsNetworkWorker?: boolean;
  /** False with --no-peer-score-disconnects (flood benchmark control). */
  peerScoreDisconnects: boolean;
  checkpointSyncUrl?: string;
  doppelgangerSlots: number;
  /** Identity seed file (lean-quickstart --node-key); default: the genesis folder's key for this node. */
  nodeKey?: string;
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
  const httpPort = flags.httpPort ?? entry?.httpPort ?? 5052;
  const metricsPort = flags.metricsPort ?? entry?.metricsPort ?? 8008;
  // Served on a port fetch refuses, the API would look dead to every fetch-based client.
  assertFetchablePort(httpPort, "HTTP API port");
  assertFetchablePort(metricsPort, "metrics port");
  if (flags.checkpointSyncUrl !== undefined) assertFetchableUrl(flags.checkpointSyncUrl, "--checkpoint-sync-url");
  return {
    chain: genesis.chain,
    nodeId: flags.nodeId,
    identitySeed: flags.nodeKey
      ? await readIdentityKeyFile(flags.nodeKey)
      : await readNodeKey(genesis.dir, flags.nodeId),
    dataDir: resolve(flags.dataDir),
    listen: flags.listen ?? entry?.listen ?? "/ip4/127.0.0.1/tcp/9000",
    // A node never dials itself.
    bootnodes: (flags.bootnodes ?? genesis.bootnodes).filter((b) => !ownPeerId || !b.endsWith(`/p2p/${ownPeerId}`)),
    validatorIndices,
    isAggregator: flags.isAggregator ?? entry?.isAggregator ?? false,
    httpHost: flags.httpHost,
    validatorApi: flags.validatorApi === true,
    apiTokenFile: flags.apiTokenFile === undefined ? undefined : resolve(flags.apiTokenFile),
    blsWorkers: flags.blsWorkers,
    checkpointSyncUrl: flags.checkpointSyncUrl,
    doppelgangerSlots: flags.doppelgangerSlots,
    maxBatch: flags.maxBatch === 0 ? Number.POSITIVE_INFINITY : flags.maxBatch,
    httpPort,
    metricsPort,
    gossipMeshDegree: flags.gossipMeshDegree,
    networkThread: flags.networkThread ?? "worker",
    debugSigusr2KillsNetworkWorker: flags.debugSigusr2KillsNetworkWorker === true,
    peerScoreDisconnects: flags.peerScoreDisconnects !== false,
  };
}

/** A --node-key file: 32 bytes of hex, with or without 0x (lean-quickstart writes it without). */
export async function readIdentityKeyFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = (await readFile(path, "utf8")).trim();
  } catch (e) {
    throw new ConfigError(`--node-key: cannot read ${path}: ${(e as Error).message}`);
  }
  const hex = text.startsWith("0x") ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError(`--node-key ${path}: expected 32 bytes of hex`);
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

export async function runNodeCommand(flags: NodeCommandFlags): Promise<void> {
  const logger = new Logger({ level: flags.logLevel, format: flags.logFormat });
  exitOnUncaughtErrors(logger);
  const shortfall = runtimeFlagsShortfall(process.execArgv, process.env.NODE_OPTIONS, {
    glibc: runsOnGlibc(),
    tunables: process.env.GLIBC_TUNABLES,
  });
  if (shortfall !== null) logger.warn(`runtime flags: ${shortfall}`);
  const options = await resolveNodeOptions(flags);
  const { BeaconNode } = await import("../node/beaconNode.ts");
  await runUntilSignal(logger, () => BeaconNode.start(options, logger));
}

export interface NodeSlashingProtectionFlags {
  dataDir: string;
  genesis: string;
  file: string;
}

/** `metronome node slashing-protection export`: the node's record (DATA_DIR/slashing-protection) to a file. */
export async function runNodeSlashingProtectionExport(flags: NodeSlashingProtectionFlags): Promise<string> {
  const genesis = await readGenesisFolder(resolve(flags.genesis));
  return exportRecordToFile(flags.dataDir, genesis.chain.forkDigest, flags.file);
}

/** `metronome node slashing-protection import`: merges a file into the node's record. */
export async function runNodeSlashingProtectionImport(flags: NodeSlashingProtectionFlags): Promise<string> {
  const genesis = await readGenesisFolder(resolve(flags.genesis));
  return importRecordFromFile(flags.dataDir, genesis.chain.forkDigest, flags.file);
}

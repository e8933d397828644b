// `metronome node`: resolves flags against the genesis folder, runs the node until SIGTERM/SIGINT.
// Uncaught errors log and exit non-zero: restart authority belongs to the external supervisor.
import { resolve } from "node:path";
import { readGenesisFolder, readNodeKey } from "../config/genesisConfig.ts";
import type { NodeOptions } from "../node/options.ts";
import { type LogFormat, Logger, type LogLevel } from "../util/logger.ts";

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
  };
}

export async function runNodeCommand(flags: NodeCommandFlags): Promise<void> {
  const logger = new Logger({ level: flags.logLevel, format: flags.logFormat });
  process.on("uncaughtException", (err) => {
    logger.error("uncaught exception; exiting for the supervisor to restart", undefined, err);
    process.exit(70);
  });
  process.on("unhandledRejection", (err) => {
    logger.error("unhandled rejection; exiting for the supervisor to restart", undefined, err);
    process.exit(70);
  });

  const options = await resolveNodeOptions(flags);
  const { BeaconNode } = await import("../node/beaconNode.ts");
  const node = await BeaconNode.start(options, logger);

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) {
        logger.warn(`second ${signal}: exiting now`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal} received, shutting down`);
      // Never hang on shutdown: the supervisor expects the process gone within a few seconds.
      const force = setTimeout(() => {
        logger.error("shutdown took longer than 8 s; exiting");
        process.exit(1);
      }, 8000);
      force.unref();
      node.stop().then(
        () => resolveStop(),
        (err: unknown) => {
          logger.error("error during shutdown", undefined, err);
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
  });
}

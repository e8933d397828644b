import type { ChainConfig } from "../config/genesisConfig.ts";

/** Everything a node needs to run, resolved from flags and the genesis folder. */
export interface NodeOptions {
  chain: ChainConfig;
  nodeId: number | null;
  identitySeed: Uint8Array;
  dataDir: string;
  listen: string;
  bootnodes: string[];
  validatorIndices: number[];
  isAggregator: boolean;
  httpHost: string;
  /** 0 disables the HTTP API. */
  httpPort: number;
  /** 0 disables the metrics server. */
  metricsPort: number;
  /** Start an empty data dir from this beacon node's finalized state instead of genesis. */
  checkpointSyncUrl: string | undefined;
  /** Queued items the driver handles per pass (Infinity removes the bound). */
  maxBatch: number;
  /** Worker threads verifying attestation signatures; 0 verifies on the main thread. */
  blsWorkers: number | undefined;
  /** Gossip mesh degree D; undefined keeps PROTOCOL.md's 8 (tests lower it to force multi-hop). */
  gossipMeshDegree?: number;
}

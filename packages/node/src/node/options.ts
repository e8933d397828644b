import type { ChainConfig } from "@metronome/common";

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
  /** Serve the /lean/v0/validator/ routes (for a separate validator client); off by default. */
  validatorApi: boolean;
  /**
   * Bearer token file of the validator routes. Default: <dataDir>/api-token.txt, generated when
   * absent and used only when httpHost is not loopback; given explicitly, it is always required.
   */
  apiTokenFile: string | undefined;
  /** 0 disables the metrics server. */
  metricsPort: number;
  /** Start an empty data dir from this beacon node's finalized state instead of genesis. */
  checkpointSyncUrl: string | undefined;
  /** Queued items the driver handles per pass (Infinity removes the bound). */
  maxBatch: number;
  /** Worker threads verifying attestation signatures; 0 verifies on the main thread. */
  blsWorkers: number | undefined;
  /** Full slots to listen for the node's own validators on the network before signing; 0 disables. */
  doppelgangerSlots: number;
  /** Gossip mesh degree D; undefined keeps PROTOCOL.md's 8 (tests lower it to force multi-hop). */
  gossipMeshDegree?: number;
  /** Where libp2p runs: its own worker thread (default) or the main thread (for comparison). */
  networkThread?: NetworkThread;
  /** Debug only (the restart test): SIGUSR2 terminates the network worker as if it had crashed. */
  debugSigusr2KillsNetworkWorker?: boolean;
  /** False keeps every peer connected whatever its score (flood benchmark control); default true. */
  peerScoreDisconnects?: boolean;
}

export type NetworkThread = "worker" | "main";

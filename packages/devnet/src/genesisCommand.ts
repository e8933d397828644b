// `metronome genesis`: writes a fresh devnet genesis folder (see config/genesisConfig.ts).
import { randomBytes } from "node:crypto";
import {
  computeForkDigest,
  createGenesisState,
  forkDigestHex,
  INTERVALS_PER_SLOT,
  interopValidators,
} from "@metronome/chain";
import { type ChainConfig, type NodeEntry, writeGenesisFolder } from "@metronome/common";
import { peerIdFromSeed } from "@metronome/network";
import { validateDevnetPorts } from "./ports.ts";
import { splitValidators } from "./subnets.ts";

export interface GenesisOptions {
  validators: number;
  nodes: number;
  out: string;
  genesisDelay: number;
  genesisTime?: number;
  slotSeconds: number;
  basePort: number;
  baseHttpPort: number;
  baseMetricsPort: number;
  aggregators: number;
  /** Attestation subnets (PROTOCOL.md's ATTESTATION_COMMITTEE_COUNT); default 1. */
  committeeCount?: number;
  host: string;
  /** Per-node listen address (devnet --netns: each node's namespace address); default `host`. */
  hostOf?: (nodeId: number) => string;
}

export interface GenesisResult {
  chain: ChainConfig;
  nodes: NodeEntry[];
  bootnodes: string[];
}

export function validateGenesisOptions(o: GenesisOptions): void {
  if (!Number.isInteger(o.validators) || o.validators < 1 || o.validators > 4096) {
    throw new Error(`--validators must be an integer in [1, 4096] (got ${o.validators})`);
  }
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > o.validators) {
    throw new Error(`--nodes must be an integer in [1, validators] (got ${o.nodes})`);
  }
  const slotMs = Math.round(o.slotSeconds * 1000);
  if (!(slotMs >= 50) || slotMs % INTERVALS_PER_SLOT !== 0) {
    throw new Error(
      `--slot-seconds must give at least 50 ms and a whole number of ms divisible by ${INTERVALS_PER_SLOT} (got ${o.slotSeconds})`,
    );
  }
  if (!Number.isInteger(o.aggregators) || o.aggregators < 0 || o.aggregators > o.nodes) {
    throw new Error(`--aggregators must be an integer in [0, nodes] (got ${o.aggregators})`);
  }
  const committeeCount = o.committeeCount ?? 1;
  if (!Number.isInteger(committeeCount) || committeeCount < 1 || committeeCount > o.validators) {
    throw new Error(`--committee-count must be an integer in [1, validators] (got ${o.committeeCount})`);
  }
  validateDevnetPorts(o);
}

export async function runGenesis(o: GenesisOptions): Promise<GenesisResult> {
  validateGenesisOptions(o);
  const genesisTime = o.genesisTime ?? Math.floor(Date.now() / 1000) + o.genesisDelay;
  const validators = interopValidators(o.validators);
  const state = createGenesisState(genesisTime, validators);
  const chain: ChainConfig = {
    genesisTime,
    slotDurationMs: Math.round(o.slotSeconds * 1000),
    attestationCommitteeCount: o.committeeCount ?? 1,
    validators,
    forkDigest: forkDigestHex(computeForkDigest(state)),
  };
  const split = splitValidators(o.validators, o.nodes, chain.attestationCommitteeCount);
  const keys = split.map(() => new Uint8Array(randomBytes(32)));
  const nodes: NodeEntry[] = await Promise.all(
    split.map(async (indices, nodeId) => ({
      nodeId,
      validatorIndices: indices,
      isAggregator: nodeId < o.aggregators,
      peerId: await peerIdFromSeed(keys[nodeId] as Uint8Array),
      listen: `/ip4/${o.hostOf?.(nodeId) ?? o.host}/tcp/${o.basePort + nodeId}`,
      httpPort: o.baseHttpPort + nodeId,
      metricsPort: o.baseMetricsPort + nodeId,
    })),
  );
  const bootnodes = nodes.map((n) => `${n.listen}/p2p/${n.peerId}`);
  await writeGenesisFolder(o.out, chain, nodes, keys, bootnodes);
  return { chain, nodes, bootnodes };
}

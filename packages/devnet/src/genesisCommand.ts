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
  host: string;
  /** Per-node listen address (devnet --netns: each node's namespace address); default `host`. */
  hostOf?: (nodeId: number) => string;
}

export interface GenesisResult {
  chain: ChainConfig;
  nodes: NodeEntry[];
  bootnodes: string[];
}

/** Splits validators [0, n) over k nodes in contiguous ranges; the first n % k nodes get one more. */
export function splitValidators(validatorCount: number, nodeCount: number): number[][] {
  const base = Math.floor(validatorCount / nodeCount);
  const extra = validatorCount % nodeCount;
  const out: number[][] = [];
  let next = 0;
  for (let i = 0; i < nodeCount; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push(Array.from({ length: size }, (_, j) => next + j));
    next += size;
  }
  return out;
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
    attestationCommitteeCount: 1,
    validators,
    forkDigest: forkDigestHex(computeForkDigest(state)),
  };
  const split = splitValidators(o.validators, o.nodes);
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

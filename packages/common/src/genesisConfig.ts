// The genesis folder written by `metronome genesis` and read by `metronome node`:
//   config.json     chain parameters and validator public keys (everything every node must agree on)
//   nodes.json      the devnet's split of validators over nodes, ports, peer ids, aggregators
//   keys/node-K.key each node's libp2p identity seed (hex), readable by the owner only
//   bootnodes.txt   one multiaddr per line
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  computeForkDigest,
  createGenesisState,
  forkDigestHex,
  fromHex,
  INTERVALS_PER_SLOT,
  type State,
  toHex,
  type Validator,
} from "@metronome/chain";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface ChainConfig {
  genesisTime: number;
  slotDurationMs: number;
  attestationCommitteeCount: number;
  validators: Validator[];
  forkDigest: string;
}

export interface NodeEntry {
  nodeId: number;
  validatorIndices: number[];
  isAggregator: boolean;
  peerId: string;
  listen: string;
  httpPort: number;
  metricsPort: number;
}

export interface GenesisFolder {
  chain: ChainConfig;
  nodes: NodeEntry[];
  bootnodes: string[];
  dir: string;
}

export function genesisStateOf(chain: ChainConfig): State {
  return createGenesisState(chain.genesisTime, chain.validators);
}

export async function writeGenesisFolder(
  dir: string,
  chain: ChainConfig,
  nodes: NodeEntry[],
  nodeKeys: Uint8Array[],
  bootnodes: string[],
): Promise<void> {
  await mkdir(join(dir, "keys"), { recursive: true });
  const config = {
    genesis_time: String(chain.genesisTime),
    slot_duration_ms: String(chain.slotDurationMs),
    attestation_committee_count: String(chain.attestationCommitteeCount),
    fork_digest: chain.forkDigest,
    validators: chain.validators.map((v) => toHex(v.pubkey)),
  };
  await writeFile(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const nodesJson = nodes.map((n) => ({
    node_id: n.nodeId,
    validators: n.validatorIndices,
    is_aggregator: n.isAggregator,
    peer_id: n.peerId,
    listen: n.listen,
    http_port: n.httpPort,
    metrics_port: n.metricsPort,
  }));
  await writeFile(join(dir, "nodes.json"), `${JSON.stringify({ nodes: nodesJson }, null, 2)}\n`);
  await Promise.all(
    nodeKeys.map((k, i) => writeFile(join(dir, "keys", `node-${i}.key`), `${toHex(k)}\n`, { mode: 0o600 })),
  );
  await writeFile(join(dir, "bootnodes.txt"), `${bootnodes.join("\n")}\n`);
}

export async function readGenesisFolder(dir: string): Promise<GenesisFolder> {
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath))
    throw new ConfigError(`no genesis at ${dir}: ${configPath} is missing (run \`metronome genesis\`)`);
  const raw = await readJson(configPath);
  const validators = arrayField(raw, "validators", configPath).map((pk, index): Validator => {
    if (typeof pk !== "string" || !/^0x[0-9a-fA-F]{96}$/.test(pk)) {
      throw new ConfigError(`${configPath}: validators[${index}] is not a 48-byte 0x-hex public key`);
    }
    return { pubkey: fromHex(pk), index };
  });
  if (validators.length === 0) throw new ConfigError(`${configPath}: validators is empty`);
  const chain: ChainConfig = {
    genesisTime: intField(raw, "genesis_time", configPath, 0),
    slotDurationMs: intField(raw, "slot_duration_ms", configPath, 5),
    attestationCommitteeCount: intField(raw, "attestation_committee_count", configPath, 1),
    validators,
    forkDigest: String(raw.fork_digest ?? ""),
  };
  if (chain.slotDurationMs % INTERVALS_PER_SLOT !== 0) {
    throw new ConfigError(
      `${configPath}: slot_duration_ms must be a multiple of ${INTERVALS_PER_SLOT} (intervals per slot)`,
    );
  }
  const computed = forkDigestHex(computeForkDigest(genesisStateOf(chain)));
  if (chain.forkDigest !== computed) {
    throw new ConfigError(
      `${configPath}: fork_digest ${chain.forkDigest || "(missing)"} does not match the genesis (${computed})`,
    );
  }

  const nodesPath = join(dir, "nodes.json");
  const nodes: NodeEntry[] = existsSync(nodesPath)
    ? arrayField(await readJson(nodesPath), "nodes", nodesPath).map((n, i) =>
        parseNode(n, i, nodesPath, validators.length),
      )
    : [];
  const bootPath = join(dir, "bootnodes.txt");
  const bootnodes = existsSync(bootPath)
    ? (await readFile(bootPath, "utf8"))
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 0 && !l.startsWith("#"))
    : [];
  return { chain, nodes, bootnodes, dir };
}

export async function readNodeKey(dir: string, nodeId: number): Promise<Uint8Array> {
  const path = join(dir, "keys", `node-${nodeId}.key`);
  if (!existsSync(path)) throw new ConfigError(`node key ${path} is missing`);
  const hex = (await readFile(path, "utf8")).trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError(`${path}: expected a 32-byte 0x-hex seed`);
  return fromHex(hex);
}

function parseNode(value: unknown, i: number, path: string, validatorCount: number): NodeEntry {
  if (typeof value !== "object" || value === null) throw new ConfigError(`${path}: nodes[${i}] is not an object`);
  const n = value as Record<string, unknown>;
  const where = `${path}: nodes[${i}]`;
  const validatorIndices = arrayField(n, "validators", where).map((v) => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= validatorCount) {
      throw new ConfigError(`${where}: validator index ${String(v)} is not in [0, ${validatorCount})`);
    }
    return v as number;
  });
  return {
    nodeId: intField(n, "node_id", where, 0),
    validatorIndices,
    isAggregator: n.is_aggregator === true,
    peerId: String(n.peer_id ?? ""),
    listen: String(n.listen ?? ""),
    httpPort: intField(n, "http_port", where, 0),
    metricsPort: intField(n, "metrics_port", where, 0),
  };
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object");
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function arrayField(obj: Record<string, unknown>, name: string, where: string): unknown[] {
  const v = obj[name];
  if (!Array.isArray(v)) throw new ConfigError(`${where}: "${name}" must be an array`);
  return v;
}

function intField(obj: Record<string, unknown>, name: string, where: string, min: number): number {
  const v = obj[name];
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`${where}: "${name}" must be an integer >= ${min} (got ${JSON.stringify(v)})`);
  }
  return n;
}

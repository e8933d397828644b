// How many of the flood's signature sets per second this machine can verify, measured on the very
// sets a flood in `mix` would make the target check: the verified kinds (valid, redundant,
// invalid_sig, unknown_root) in their mix proportions, batched as the node batches them. Two figures:
//   pool: BlsVerifierPool with the node's worker count, all sets submitted at once (the node's path)
//   same-batch blst: the same batch code (same-message grouping, per-set fallback) on this thread
// The flood benchmark sets its default rate from the pool figure.

import type { SignatureSetInput } from "@metronome/bls";
import {
  BlsVerifierPool,
  toVerifiableSet,
  ValidatorKeyTable,
  type VerifiableSet,
  verifySetBatch,
} from "@metronome/bls";
import {
  type Checkpoint,
  computeForkDigest,
  createGenesisState,
  getAggregatedAttestationSignatureSet,
  getAttestationSignatureSet,
  interopValidators,
  PubkeyCache,
  type SignatureSet,
  SigningDomains,
} from "@metronome/chain";
import { withOtherCoresBusy } from "./busyCores.ts";
import type { ChainSnapshot } from "./chainView.ts";
import { FLOOD_KINDS, type FloodMix, MixPicker, VERIFIED_KINDS } from "./mix.ts";
import { type DecodedFloodPayload, decodeFloodPayload, type FloodPayload } from "./payloadData.ts";
import { PayloadFactory } from "./payloadFactory.ts";

export interface CapacityOptions {
  validatorCount: number;
  mix: FloodMix;
  /** Sets verified per measurement. */
  sets: number;
  workers: number;
  batchSize?: number;
}

export interface CapacityResult {
  sets: number;
  workers: number;
  batchSize: number;
  /** Fraction of the sets that verify (valid + unknown_root). */
  validFraction: number;
  poolSetsPerSec: number;
  /** The same batch code on one thread of an otherwise idle machine. */
  sameBatchBlstSetsPerSec: number;
  /** The same, with every other core kept busy (as during a flood; see busyCores.ts). */
  sameBatchBlstOtherCoresBusySetsPerSec: number;
  /**
   * The idle run's sets per CPU second of this process (every thread: blst's batch call runs on a
   * thread per core, so its wall time is not its cost), against which a node's verification
   * threads' CPU is compared.
   */
  sameBatchBlstSetsPerCpuSec: number;
}

const DEFAULT_BATCH = 64;

function syntheticSnapshot(): ChainSnapshot {
  const block = (slot: number): Checkpoint => ({ root: crypto.getRandomValues(new Uint8Array(32)), slot });
  const blocks = [10, 11, 12, 13, 14, 15, 16].map(block);
  const at = (slot: number) => blocks.find((b) => b.slot === slot) as Checkpoint;
  return { head: at(16), justified: at(13), finalized: at(10), blocks, currentSlot: 18 };
}

/** The chain's signature set for a decoded payload, built as the node's gossip path builds it. */
export function decodedSignatureSet(
  decoded: DecodedFloodPayload,
  pubkeys: PubkeyCache,
  domains: SigningDomains,
): SignatureSet {
  return decoded.topic === "attestation"
    ? getAttestationSignatureSet(pubkeys, domains, decoded.value)
    : getAggregatedAttestationSignatureSet(pubkeys, domains, decoded.value);
}

/**
 * The signature set the node would verify for a payload (null if it never reaches a pairing): by
 * validator index, as the node hands sets to its pool, which holds the keys.
 */
export function payloadSignatureSet(
  payload: FloodPayload,
  pubkeys: PubkeyCache,
  domains: SigningDomains,
): SignatureSetInput | null {
  try {
    const set = decodedSignatureSet(decodeFloodPayload(payload), pubkeys, domains);
    return { message: set.message, signature: set.signature, validatorIndices: set.validatorIndices };
  } catch {
    return null;
  }
}

/**
 * The flood's payloads of the kinds that reach a signature check, in mix order, on a synthetic
 * chain of `validatorCount` interop validators; endless (nothing if the mix has no such kind).
 */
export function* verifiedFloodPayloads(validatorCount: number, mix: FloodMix): Generator<FloodPayload> {
  if (VERIFIED_KINDS.every((k) => mix[k] === 0)) return;
  const forkDigest = computeForkDigest(createGenesisState(0, interopValidators(validatorCount)));
  const factory = new PayloadFactory({ validatorCount, forkDigest });
  factory.setSnapshot(syntheticSnapshot());
  const verifiedOnly = Object.fromEntries(
    FLOOD_KINDS.map((k) => [k, VERIFIED_KINDS.includes(k) ? mix[k] : 0]),
  ) as unknown as FloodMix;
  const picker = new MixPicker(verifiedOnly);
  for (;;) {
    const kind = picker.next();
    if (kind === "duplicate" || kind === "future_slot" || kind === "malformed") continue;
    const [payload] = factory.produce(kind, 1);
    if (payload !== undefined) yield payload;
  }
}

/** The flood's verified sets, in mix order, as the target would receive them. */
export function floodSignatureSets(pubkeys: PubkeyCache, mix: FloodMix, count: number): SignatureSetInput[] {
  const validatorCount = pubkeys.size;
  const domains = new SigningDomains(computeForkDigest(createGenesisState(0, interopValidators(validatorCount))));
  const out: SignatureSetInput[] = [];
  if (count <= 0) return out;
  for (const payload of verifiedFloodPayloads(validatorCount, mix)) {
    const set = payloadSignatureSet(payload, pubkeys, domains);
    if (set !== null) out.push(set);
    if (out.length >= count) break;
  }
  return out;
}

export async function measureVerificationCapacity(o: CapacityOptions): Promise<CapacityResult> {
  const batchSize = o.batchSize ?? DEFAULT_BATCH;
  const pubkeys = new PubkeyCache(interopValidators(o.validatorCount));
  const validatorKeys = pubkeys.all();
  const sets = floodSignatureSets(pubkeys, o.mix, o.sets);
  const verifiable = sets
    .map((s) => toVerifiableSet(s, validatorKeys.length))
    .filter((s): s is VerifiableSet => s !== null);
  // The baseline looks keys up and aggregates them as a worker does (its table decoded once, as a worker's is).
  const table = ValidatorKeyTable.fromKeys(validatorKeys);

  const idle = timeSameBatch(verifiable, table, batchSize);
  const loaded = await withOtherCoresBusy(() => timeSameBatch(verifiable, table, batchSize));

  const pool = new BlsVerifierPool({
    workers: o.workers,
    maxQueuedSets: Math.max(sets.length, 1024),
    validatorKeys,
  });
  let poolMs = Number.POSITIVE_INFINITY;
  try {
    await pool.ready();
    await pool.verifySets(sets.slice(0, batchSize));
    for (let rep = 0; rep < 2; rep++) {
      const started = performance.now();
      const calls: Promise<boolean[]>[] = [];
      for (let i = 0; i < sets.length; i += batchSize) calls.push(pool.verifySets(sets.slice(i, i + batchSize)));
      await Promise.all(calls);
      poolMs = Math.min(poolMs, performance.now() - started);
    }
  } finally {
    await pool.close();
  }
  return {
    sets: sets.length,
    workers: o.workers,
    batchSize,
    validFraction: sets.length === 0 ? 0 : idle.valid / sets.length,
    poolSetsPerSec: (sets.length * 1000) / poolMs,
    sameBatchBlstSetsPerSec: (verifiable.length * 1000) / idle.ms,
    sameBatchBlstOtherCoresBusySetsPerSec: (verifiable.length * 1000) / loaded.ms,
    sameBatchBlstSetsPerCpuSec: (verifiable.length * 1000) / idle.cpuMs,
  };
}

/**
 * The node's batch code on this thread, batch by batch: best of two runs (the machine is shared),
 * in wall time and in this process's CPU time (user + system, all threads).
 */
function timeSameBatch(
  verifiable: readonly VerifiableSet[],
  table: ValidatorKeyTable,
  batchSize: number,
): { ms: number; cpuMs: number; valid: number } {
  let ms = Number.POSITIVE_INFINITY;
  let cpuMs = Number.POSITIVE_INFINITY;
  let valid = 0;
  for (let rep = 0; rep < 2; rep++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    valid = 0;
    for (let i = 0; i < verifiable.length; i += batchSize) {
      for (const r of verifySetBatch(verifiable.slice(i, i + batchSize), table).results) valid += r;
    }
    const cpu = process.cpuUsage(cpuStarted);
    ms = Math.min(ms, performance.now() - started);
    cpuMs = Math.min(cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return { ms, cpuMs, valid };
}

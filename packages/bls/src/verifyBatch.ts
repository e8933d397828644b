// The batch check both verifiers run (in a worker thread, or on the main thread in --no-worker
// mode). Sets sharing a message are combined with random scalars into ONE verify; the rest go
// through one randomized multi-pairing check. A failed combined check is re-done set by set, so
// a bad signature costs only its own result. Never throws: undecodable bytes give false.
import { Buffer } from "node:buffer";
import { blst } from "@metronome/chain";
import type { ValidatorKeyTable } from "./keyTable.ts";
import { type BatchCounters, emptyBatchCounters } from "./types.ts";
import { PUBLIC_KEY_UNCOMPRESSED_LENGTH, type VerifiableSet } from "./wire.ts";

type PublicKey = InstanceType<typeof blst.PublicKey>;
type Signature = InstanceType<typeof blst.Signature>;

export interface BatchOutcome {
  /** 1 = valid, 0 = invalid, one per input set. */
  results: Uint8Array;
  counters: BatchCounters;
}

/** Serialized infinity points carry this flag in their first byte. */
const INFINITY_FLAG = 0x40;

/**
 * Uncompressed keys were serialized by this process from already-checked PublicKey objects, so
 * only their encoding is checked (about 2 us); compressed keys are raw bytes and get the full
 * infinity + subgroup check (about 100 us).
 */
function decodePublicKey(bytes: Uint8Array): PublicKey | null {
  try {
    if (bytes.length === PUBLIC_KEY_UNCOMPRESSED_LENGTH) {
      if (((bytes[0] ?? 0) & INFINITY_FLAG) !== 0) return null;
      return blst.PublicKey.fromBytes(bytes);
    }
    return blst.PublicKey.fromBytes(bytes, true);
  } catch {
    return null;
  }
}

/** Signatures are untrusted: infinity and subgroup checked here, once. */
function decodeSignature(bytes: Uint8Array): Signature | null {
  try {
    return blst.Signature.fromBytes(bytes, true);
  } catch {
    return null;
  }
}

function messageKey(message: Uint8Array): string {
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString("latin1");
}

/** A set's key: its own bytes decoded, or its validators' keys from the table (aggregated if several). */
function resolveKey(set: VerifiableSet, table: ValidatorKeyTable | null, counters: BatchCounters): PublicKey | null {
  if (set.publicKey !== null) return decodePublicKey(set.publicKey);
  if (table === null || set.validatorIndices === null) return null;
  if (set.validatorIndices.length > 1) counters.keyAggregations++;
  return table.resolve(set.validatorIndices);
}

/** `table`: the validators' keys, for sets that name validators (without it such sets are false). */
export function verifySetBatch(sets: readonly VerifiableSet[], table: ValidatorKeyTable | null = null): BatchOutcome {
  const results = new Uint8Array(sets.length);
  const counters = emptyBatchCounters();
  counters.sets = sets.length;
  const decodesBefore = table?.decodes ?? 0;
  const keys = sets.map((s) => resolveKey(s, table, counters));
  counters.keysDecoded = (table?.decodes ?? 0) - decodesBefore;

  const groups = new Map<string, number[]>();
  const distinct: number[] = [];
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i] as VerifiableSet;
    if (keys[i] === null) {
      counters.malformed++;
    } else if (!set.groupable) {
      distinct.push(i);
    } else {
      const key = messageKey(set.message);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [i]);
      else group.push(i);
    }
  }
  for (const group of groups.values()) {
    if (group.length === 1) distinct.push(group[0] as number);
    else verifySameMessageGroup(sets, keys, group, results, counters);
  }
  verifyDistinctMessages(sets, keys, distinct, results, counters);
  return { results, counters };
}

function verifySameMessageGroup(
  sets: readonly VerifiableSet[],
  keys: readonly (PublicKey | null)[],
  group: readonly number[],
  results: Uint8Array,
  counters: BatchCounters,
): void {
  counters.batchChecks++;
  counters.sameMessageGroups++;
  const message = (sets[group[0] as number] as VerifiableSet).message;
  let ok = false;
  try {
    // Random scalars stop a forged signature from cancelling another one out of the sum.
    const combined = blst.aggregateWithRandomness(
      group.map((i) => ({ pk: keys[i] as PublicKey, sig: (sets[i] as VerifiableSet).signature })),
    );
    ok = blst.verify(message, combined.pk, combined.sig);
  } catch {
    ok = false; // a malformed signature in the group: find it below
  }
  if (ok) {
    for (const i of group) results[i] = 1;
    return;
  }
  counters.fallbacks++;
  for (const i of group) {
    const signature = decodeSignature((sets[i] as VerifiableSet).signature);
    if (signature === null) {
      counters.malformed++;
      continue;
    }
    results[i] = verifyOne(message, keys[i] as PublicKey, signature, counters) ? 1 : 0;
  }
}

function verifyDistinctMessages(
  sets: readonly VerifiableSet[],
  keys: readonly (PublicKey | null)[],
  indices: readonly number[],
  results: Uint8Array,
  counters: BatchCounters,
): void {
  const ready: { index: number; msg: Uint8Array; pk: PublicKey; sig: Signature }[] = [];
  for (const i of indices) {
    const sig = decodeSignature((sets[i] as VerifiableSet).signature);
    if (sig === null) counters.malformed++;
    else ready.push({ index: i, msg: (sets[i] as VerifiableSet).message, pk: keys[i] as PublicKey, sig });
  }
  if (ready.length === 0) return;
  if (ready.length > 1) {
    counters.batchChecks++;
    let ok = false;
    try {
      // Keys and signatures were checked while decoding; skip blst's second pass.
      ok = blst.verifyMultipleAggregateSignatures(ready, false, false);
    } catch {
      ok = false;
    }
    if (ok) {
      for (const set of ready) results[set.index] = 1;
      return;
    }
    counters.fallbacks++;
  }
  for (const set of ready) results[set.index] = verifyOne(set.msg, set.pk, set.sig, counters) ? 1 : 0;
}

function verifyOne(message: Uint8Array, publicKey: PublicKey, signature: Signature, counters: BatchCounters): boolean {
  counters.individualChecks++;
  try {
    return blst.verify(message, publicKey, signature);
  } catch {
    return false;
  }
}

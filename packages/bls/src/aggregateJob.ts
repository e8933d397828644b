// A block's signature as a worker job: distinct messages under one aggregate signature
// (AggregateVerify), the signers named by validator index so the keys are looked up and aggregated
// where the check runs. Packed into one ArrayBuffer, like a set job (wire.ts), so it crosses to the
// worker as a transfer.
//
// Layout (u32 in the platform byte order, everything 4-byte aligned):
//   header      u32 magic "BLA1" | u32 message count n | u32 index count k
//   signature   [96]
//   messages    n x [32]
//   counts      n x u32 (signers of message i)
//   indices     k x u32

import { verifyAggregate } from "@metronome/chain";
import type { ValidatorKeyTable } from "./keyTable.ts";
import { type AggregateSignatureInput, emptyBatchCounters } from "./types.ts";
import type { BatchOutcome } from "./verifyBatch.ts";
import { MESSAGE_LENGTH, SIGNATURE_LENGTH } from "./wire.ts";

const MAGIC = 0x31414c42; // "BLA1" read as little-endian u32
const HEADER_BYTES = 12;
const INDEX_BYTES = 4;

/** A checked aggregate job: what the encoder packs and the verifier consumes. */
export interface AggregateJob {
  messages: readonly Uint8Array[];
  signers: readonly ArrayLike<number>[];
  signature: Uint8Array;
}

/**
 * Shape checks only (no crypto): one signer list per message, none empty, every index inside the
 * verifier's table of `validatorCount` keys (which also bounds the job's size). Null when the
 * input can never verify, so it is answered false without a trip to a worker.
 */
export function toAggregateJob(input: AggregateSignatureInput, validatorCount: number): AggregateJob | null {
  if (typeof input !== "object" || input === null) return null;
  const { messages, signers, signature } = input;
  if (!Array.isArray(messages) || !Array.isArray(signers) || messages.length === 0) return null;
  if (messages.length !== signers.length) return null;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return null;
  for (const m of messages) if (!(m instanceof Uint8Array) || m.length !== MESSAGE_LENGTH) return null;
  for (const list of signers) {
    if (!Array.isArray(list) || list.length === 0 || list.length > validatorCount) return null;
    for (const i of list) if (!Number.isInteger(i) || i < 0 || i >= validatorCount) return null;
  }
  return { messages, signers, signature };
}

/** Callers pass only jobs from `toAggregateJob`. */
export function encodeAggregateJob(job: AggregateJob): ArrayBuffer {
  const n = job.messages.length;
  let k = 0;
  for (const list of job.signers) k += list.length;
  const messagesAt = HEADER_BYTES + SIGNATURE_LENGTH;
  const countsAt = messagesAt + n * MESSAGE_LENGTH;
  const indicesAt = countsAt + n * INDEX_BYTES;
  const buffer = new ArrayBuffer(indicesAt + k * INDEX_BYTES);
  const words = new Uint32Array(buffer);
  const bytes = new Uint8Array(buffer);
  words[0] = MAGIC;
  words[1] = n;
  words[2] = k;
  bytes.set(job.signature, HEADER_BYTES);
  let at = indicesAt / INDEX_BYTES;
  job.messages.forEach((message, i) => {
    bytes.set(message, messagesAt + i * MESSAGE_LENGTH);
    const list = job.signers[i] as ArrayLike<number>;
    words[countsAt / INDEX_BYTES + i] = list.length;
    words.set(list, at);
    at += list.length;
  });
  return buffer;
}

/** Null when the buffer is not an aggregate job this module wrote (a set job, or damaged). */
export function decodeAggregateJob(buffer: ArrayBuffer): AggregateJob | null {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_BYTES || buffer.byteLength % 4 !== 0) return null;
  const words = new Uint32Array(buffer);
  if (words[0] !== MAGIC) return null;
  const n = words[1] ?? 0;
  const k = words[2] ?? 0;
  const messagesAt = HEADER_BYTES + SIGNATURE_LENGTH;
  const countsAt = messagesAt + n * MESSAGE_LENGTH;
  const indicesAt = countsAt + n * INDEX_BYTES;
  if (buffer.byteLength !== indicesAt + k * INDEX_BYTES) return null;
  const bytes = new Uint8Array(buffer);
  const messages: Uint8Array[] = new Array(n);
  const signers: Uint32Array[] = new Array(n);
  let at = indicesAt / INDEX_BYTES;
  for (let i = 0; i < n; i++) {
    messages[i] = bytes.subarray(messagesAt + i * MESSAGE_LENGTH, messagesAt + (i + 1) * MESSAGE_LENGTH);
    const count = words[countsAt / INDEX_BYTES + i] ?? 0;
    if (at + count > words.length) return null;
    signers[i] = words.subarray(at, at + count);
    at += count;
  }
  return { messages, signers, signature: bytes.subarray(HEADER_BYTES, HEADER_BYTES + SIGNATURE_LENGTH) };
}

/** AggregateVerify with the table's keys; false for an unknown signer or a signature that does not decode. */
export function verifyAggregateJob(job: AggregateJob, table: ValidatorKeyTable | null): boolean {
  if (table === null) return false;
  const keys = [];
  for (const list of job.signers) {
    const key = table.resolve(list);
    if (key === null) return false;
    keys.push(key);
  }
  // The chain's own check: the signature is untrusted, so infinity and subgroup checked.
  return verifyAggregate(job.messages as Uint8Array[], keys, job.signature);
}

/** The check as a one-set batch outcome, for the stats both verifiers keep. */
export function aggregateJobOutcome(job: AggregateJob, table: ValidatorKeyTable | null): BatchOutcome {
  const counters = { ...emptyBatchCounters(), sets: 1, individualChecks: 1 };
  counters.keyAggregations = job.signers.filter((list) => list.length > 1).length;
  return { results: Uint8Array.of(verifyAggregateJob(job, table) ? 1 : 0), counters };
}

// Packs a job's signature sets into ONE ArrayBuffer so it crosses to a worker as a transfer
// (a pointer move) rather than a structured clone of many small objects. Fixed-size records plus
// a tail for the variable part keep decoding to a few subarray views, no copies.
//
// Layout (u32 in the platform byte order, which both threads share; everything 4-byte aligned, so
// index lists decode as Uint32Array views):
//   header   u32 magic "BLS2" | u32 set count | u32 tail bytes
//   record   u8 flags | u8 key kind | u16 zero | u32 key length | u32 tail offset | message[32] | signature[96]
//   tail     per set: the key bytes (48 or 96), or the validator indices (u32 each)
// Key length is bytes for a key and a count for indices.

import type { SignatureSetInput } from "./types.ts";

export const MESSAGE_LENGTH = 32;
export const PUBLIC_KEY_COMPRESSED_LENGTH = 48;
export const PUBLIC_KEY_UNCOMPRESSED_LENGTH = 96;
export const SIGNATURE_LENGTH = 96;
const INDEX_BYTES = 4;

const MAGIC = 0x324c5342; // "BLS2" read as little-endian u32
const HEADER_BYTES = 12;
const FLAG_GROUPABLE = 1;
const KIND_KEY = 0;
const KIND_INDICES = 1;
const OFFSET_KEY_LENGTH = 4;
const OFFSET_TAIL = 8;
const OFFSET_MESSAGE = 12;
const OFFSET_SIGNATURE = OFFSET_MESSAGE + MESSAGE_LENGTH;
export const RECORD_BYTES = OFFSET_SIGNATURE + SIGNATURE_LENGTH;

/** A set as the batch verifier consumes it (views into a job buffer, or the caller's arrays). */
export interface VerifiableSet {
  message: Uint8Array;
  /** Key bytes (48 or 96); null when the set names validators instead. */
  publicKey: Uint8Array | null;
  /** Indices into the verifier's validator key table; null when the set carries its key. */
  validatorIndices: ArrayLike<number> | null;
  signature: Uint8Array;
  groupable: boolean;
}

/**
 * Shape checks only (no crypto): a set failing them can never verify, so it is answered false
 * without a trip to a worker. Indices must name validators of the verifier's table (`validatorCount`
 * of them), which also bounds the bytes a set can take in a job. Null for such a set.
 */
export function toVerifiableSet(set: SignatureSetInput, validatorCount = 0): VerifiableSet | null {
  if (!hasValidShape(set)) return null;
  const groupable = set.sameMessageGroup !== false;
  if ("validatorIndices" in set) {
    if (!validIndices(set.validatorIndices, validatorCount)) return null;
    return {
      message: set.message,
      publicKey: null,
      validatorIndices: set.validatorIndices,
      signature: set.signature,
      groupable,
    };
  }
  const key = (set as { publicKey?: unknown }).publicKey;
  if (!(key instanceof Uint8Array)) return null;
  if (key.length !== PUBLIC_KEY_COMPRESSED_LENGTH && key.length !== PUBLIC_KEY_UNCOMPRESSED_LENGTH) return null;
  return { message: set.message, publicKey: key, validatorIndices: null, signature: set.signature, groupable };
}

function hasValidShape(set: SignatureSetInput): boolean {
  return (
    typeof set === "object" &&
    set !== null &&
    set.message instanceof Uint8Array &&
    set.signature instanceof Uint8Array &&
    set.message.length === MESSAGE_LENGTH &&
    set.signature.length === SIGNATURE_LENGTH
  );
}

function validIndices(indices: unknown, validatorCount: number): boolean {
  if (!Array.isArray(indices) || indices.length === 0 || indices.length > validatorCount) return false;
  for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= validatorCount) return false;
  return true;
}

function tailBytes(set: VerifiableSet): number {
  return set.publicKey !== null ? set.publicKey.length : (set.validatorIndices?.length ?? 0) * INDEX_BYTES;
}

/** Callers pass only sets from `toVerifiableSet`. */
export function encodeJob(sets: readonly VerifiableSet[]): ArrayBuffer {
  let tail = 0;
  for (const set of sets) tail += tailBytes(set);
  const tailStart = HEADER_BYTES + sets.length * RECORD_BYTES;
  const buffer = new ArrayBuffer(tailStart + tail);
  const words = new Uint32Array(buffer);
  const bytes = new Uint8Array(buffer);
  words[0] = MAGIC;
  words[1] = sets.length;
  words[2] = tail;
  let offset = HEADER_BYTES;
  let tailOffset = 0;
  for (const set of sets) {
    bytes[offset] = set.groupable ? FLAG_GROUPABLE : 0;
    bytes[offset + 1] = set.publicKey !== null ? KIND_KEY : KIND_INDICES;
    words[(offset + OFFSET_KEY_LENGTH) / 4] = set.publicKey?.length ?? set.validatorIndices?.length ?? 0;
    words[(offset + OFFSET_TAIL) / 4] = tailOffset;
    bytes.set(set.message, offset + OFFSET_MESSAGE);
    bytes.set(set.signature, offset + OFFSET_SIGNATURE);
    if (set.publicKey !== null) bytes.set(set.publicKey, tailStart + tailOffset);
    else if (set.validatorIndices !== null) words.set(set.validatorIndices, (tailStart + tailOffset) / 4);
    tailOffset += tailBytes(set);
    offset += RECORD_BYTES;
  }
  return buffer;
}

/** Null when the buffer is not a job this module wrote (wrong magic, length or offsets). */
export function decodeJob(buffer: ArrayBuffer): VerifiableSet[] | null {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_BYTES || buffer.byteLength % 4 !== 0) return null;
  const words = new Uint32Array(buffer);
  const count = words[1] ?? 0;
  const tail = words[2] ?? 0;
  const tailStart = HEADER_BYTES + count * RECORD_BYTES;
  if (words[0] !== MAGIC || buffer.byteLength !== tailStart + tail) return null;
  const bytes = new Uint8Array(buffer);
  const sets: VerifiableSet[] = new Array(count);
  for (let i = 0, offset = HEADER_BYTES; i < count; i++, offset += RECORD_BYTES) {
    const length = words[(offset + OFFSET_KEY_LENGTH) / 4] ?? 0;
    const at = tailStart + (words[(offset + OFFSET_TAIL) / 4] ?? 0);
    const isKey = bytes[offset + 1] === KIND_KEY;
    if (at + (isKey ? length : length * INDEX_BYTES) > buffer.byteLength) return null;
    sets[i] = {
      groupable: ((bytes[offset] ?? 0) & FLAG_GROUPABLE) !== 0,
      message: bytes.subarray(offset + OFFSET_MESSAGE, offset + OFFSET_MESSAGE + MESSAGE_LENGTH),
      publicKey: isKey ? bytes.subarray(at, at + length) : null,
      validatorIndices: isKey ? null : words.subarray(at / 4, at / 4 + length),
      signature: bytes.subarray(offset + OFFSET_SIGNATURE, offset + OFFSET_SIGNATURE + SIGNATURE_LENGTH),
    };
  }
  return sets;
}

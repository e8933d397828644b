// Packs a job's signature sets into ONE ArrayBuffer so it crosses to a worker as a transfer
// (a pointer move) rather than a structured clone of many small objects. Fixed-size records
// keep decoding to a few subarray views, no copies.
//
// Layout (little endian):
//   header   u32 magic "BLS1" | u32 set count
//   record   u8 flags | u8 publicKey length (48|96) | u16 zero | message[32] | publicKey[96] | signature[96]

import type { SignatureSetInput } from "./types.ts";

export const MESSAGE_LENGTH = 32;
export const PUBLIC_KEY_COMPRESSED_LENGTH = 48;
export const PUBLIC_KEY_UNCOMPRESSED_LENGTH = 96;
export const SIGNATURE_LENGTH = 96;

const MAGIC = 0x314c5342; // "BLS1" read as little-endian u32
const HEADER_BYTES = 8;
const FLAG_GROUPABLE = 1;
const OFFSET_MESSAGE = 4;
const OFFSET_PUBLIC_KEY = OFFSET_MESSAGE + MESSAGE_LENGTH;
const OFFSET_SIGNATURE = OFFSET_PUBLIC_KEY + PUBLIC_KEY_UNCOMPRESSED_LENGTH;
export const RECORD_BYTES = OFFSET_SIGNATURE + SIGNATURE_LENGTH;

/** A set as the batch verifier consumes it (views into a job buffer, or the caller's arrays). */
export interface VerifiableSet {
  message: Uint8Array;
  publicKey: Uint8Array;
  signature: Uint8Array;
  groupable: boolean;
}

/**
 * Length checks only (no crypto): a set failing them can never verify, so it is answered false
 * without a trip to a worker. Null for such a set.
 */
export function toVerifiableSet(set: SignatureSetInput): VerifiableSet | null {
  if (!hasValidShape(set)) return null;
  return {
    message: set.message,
    publicKey: set.publicKey,
    signature: set.signature,
    groupable: set.sameMessageGroup !== false,
  };
}

function hasValidShape(set: SignatureSetInput): boolean {
  return (
    typeof set === "object" &&
    set !== null &&
    set.message instanceof Uint8Array &&
    set.publicKey instanceof Uint8Array &&
    set.signature instanceof Uint8Array &&
    set.message.length === MESSAGE_LENGTH &&
    (set.publicKey.length === PUBLIC_KEY_COMPRESSED_LENGTH ||
      set.publicKey.length === PUBLIC_KEY_UNCOMPRESSED_LENGTH) &&
    set.signature.length === SIGNATURE_LENGTH
  );
}

export function encodedJobBytes(setCount: number): number {
  return HEADER_BYTES + setCount * RECORD_BYTES;
}

/** Callers pass only sets from `toVerifiableSet`. */
export function encodeJob(sets: readonly VerifiableSet[]): ArrayBuffer {
  const buffer = new ArrayBuffer(encodedJobBytes(sets.length));
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, sets.length, true);
  let offset = HEADER_BYTES;
  for (const set of sets) {
    bytes[offset] = set.groupable ? FLAG_GROUPABLE : 0;
    bytes[offset + 1] = set.publicKey.length;
    bytes.set(set.message, offset + OFFSET_MESSAGE);
    bytes.set(set.publicKey, offset + OFFSET_PUBLIC_KEY);
    bytes.set(set.signature, offset + OFFSET_SIGNATURE);
    offset += RECORD_BYTES;
  }
  return buffer;
}

/** Null when the buffer is not a job this module wrote (wrong magic or length). */
export function decodeJob(buffer: ArrayBuffer): VerifiableSet[] | null {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_BYTES) return null;
  const view = new DataView(buffer);
  const count = view.getUint32(4, true);
  if (view.getUint32(0, true) !== MAGIC || buffer.byteLength !== encodedJobBytes(count)) return null;
  const bytes = new Uint8Array(buffer);
  const sets: VerifiableSet[] = [];
  for (let i = 0, offset = HEADER_BYTES; i < count; i++, offset += RECORD_BYTES) {
    const publicKeyLength = Math.min(bytes[offset + 1] ?? 0, PUBLIC_KEY_UNCOMPRESSED_LENGTH);
    sets.push({
      groupable: ((bytes[offset] ?? 0) & FLAG_GROUPABLE) !== 0,
      message: bytes.subarray(offset + OFFSET_MESSAGE, offset + OFFSET_MESSAGE + MESSAGE_LENGTH),
      publicKey: bytes.subarray(offset + OFFSET_PUBLIC_KEY, offset + OFFSET_PUBLIC_KEY + publicKeyLength),
      signature: bytes.subarray(offset + OFFSET_SIGNATURE, offset + OFFSET_SIGNATURE + SIGNATURE_LENGTH),
    });
  }
  return sets;
}

// Snappy BLOCK format, used for gossip payloads. The block starts with a varint of its uncompressed
// length; we read that first so an oversized or lying payload is refused before any decompression.
import { compressSync, uncompressSync } from "snappy";
import { errorMessage, NetworkError, NetworkErrorCode } from "../errors.ts";
import { MAX_PAYLOAD_SIZE, maxCompressedLength } from "./limits.ts";
import { decodeVarint } from "./varint.ts";

/** The block preamble is a 32-bit varint. */
const PREAMBLE_MAX_BYTES = 5;

export function compressBlock(data: Uint8Array): Uint8Array {
  if (data.length > MAX_PAYLOAD_SIZE) {
    throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `${data.length} > ${MAX_PAYLOAD_SIZE}`);
  }
  return toUint8Array(compressSync(data));
}

/** Uncompressed length declared by a snappy block, without decompressing it. */
export function blockDeclaredLength(compressed: Uint8Array): number {
  const read = decodeVarint(compressed, 0, PREAMBLE_MAX_BYTES);
  if (read === null) throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, "truncated snappy preamble");
  return read.value;
}

export function uncompressBlock(compressed: Uint8Array, maxLength = MAX_PAYLOAD_SIZE): Uint8Array {
  if (compressed.length > maxCompressedLength(maxLength)) {
    throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `compressed size ${compressed.length} exceeds bound`);
  }
  const declared = blockDeclaredLength(compressed);
  if (declared > maxLength) {
    throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `declared ${declared} > ${maxLength}`);
  }
  let out: Uint8Array;
  try {
    out = toUint8Array(uncompressSync(compressed));
  } catch (err) {
    throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, errorMessage(err));
  }
  if (out.length !== declared) {
    throw new NetworkError(NetworkErrorCode.LENGTH_MISMATCH, `declared ${declared}, got ${out.length}`);
  }
  return out;
}

/** snappy hands back Buffers (or strings); callers get plain Uint8Array views. */
export function toUint8Array(data: string | Uint8Array): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

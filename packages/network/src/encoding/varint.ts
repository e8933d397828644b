// Unsigned LEB128 varints (protobuf style), as used for req/resp length prefixes and the snappy
// block preamble. Values stay JS numbers: anything past 2^53 is rejected as an overflow, which is
// harmless because every length we accept is capped at a few MiB anyway.
import type { Uint8ArrayList } from "uint8arraylist";
import { NetworkError, NetworkErrorCode } from "../errors.ts";

/** A 64-bit varint never needs more than 10 bytes. */
export const MAX_VARINT_BYTES = 10;

export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new NetworkError(NetworkErrorCode.VARINT_OVERFLOW, `cannot encode ${value} as an unsigned varint`);
  }
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

export type VarintRead = { value: number; bytesRead: number };

/**
 * Decodes a varint at `offset`. Returns null when the input ends before the final byte (the caller
 * may wait for more); throws VARINT_OVERFLOW when the varint is longer than `maxBytes` or exceeds
 * 2^53 - 1.
 */
export function decodeVarint(
  bytes: Uint8Array | Uint8ArrayList,
  offset = 0,
  maxBytes = MAX_VARINT_BYTES,
): VarintRead | null {
  const length = bytes instanceof Uint8Array ? bytes.length : bytes.byteLength;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    const pos = offset + i;
    if (pos >= length) return null;
    const byte = bytes instanceof Uint8Array ? (bytes[pos] as number) : bytes.get(pos);
    value += (byte & 0x7f) * scale;
    if (!Number.isSafeInteger(value)) {
      throw new NetworkError(NetworkErrorCode.VARINT_OVERFLOW, "varint exceeds 2^53 - 1");
    }
    if ((byte & 0x80) === 0) return { value, bytesRead: i + 1 };
    scale *= 0x80;
  }
  throw new NetworkError(NetworkErrorCode.VARINT_OVERFLOW, `varint longer than ${maxBytes} bytes`);
}

/** Decodes a complete varint; a truncated input is an error here, not a request for more bytes. */
export function decodeVarintComplete(bytes: Uint8Array, offset = 0, maxBytes = MAX_VARINT_BYTES): VarintRead {
  const read = decodeVarint(bytes, offset, maxBytes);
  if (read === null) throw new NetworkError(NetworkErrorCode.VARINT_TRUNCATED, "input ends inside a varint");
  return read;
}

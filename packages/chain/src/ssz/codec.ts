// Decoding untrusted bytes. Every failure becomes a ChainError(DECODE_ERROR) with the type name,
// so callers count and drop instead of letting a RangeError escape into an I/O handler.
import type { Type } from "@chainsafe/ssz";
import { ChainError, RejectionCode } from "../errors.ts";

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: ChainError };

export function tryDecode<T>(type: Type<T>, bytes: Uint8Array): DecodeResult<T> {
  try {
    return { ok: true, value: type.deserialize(bytes) };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      error: new ChainError(
        RejectionCode.DECODE_ERROR,
        `malformed ${type.typeName} (${bytes.length} bytes): ${reason}`,
      ),
    };
  }
}

export function decode<T>(type: Type<T>, bytes: Uint8Array): T {
  const result = tryDecode(type, bytes);
  if (!result.ok) throw result.error;
  return result.value;
}

export function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

export function fromHex(hex: string): Uint8Array {
  const body = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) throw new Error(`invalid hex string: ${hex.slice(0, 20)}`);
  return new Uint8Array(Buffer.from(body, "hex"));
}

/** Short form for logs: first 4 bytes. */
export function shortRoot(root: Uint8Array): string {
  return toHex(root.subarray(0, 4));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte-wise comparison as unsigned big-endian integers (fork-choice tie break: larger root wins). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

// Copy-on-write helpers for ssz BitArrays. State values share their BitArrays with earlier states,
// so every change builds a new BitArray instead of calling .set on the existing one.
import { BitArray } from "@chainsafe/ssz";

/** A copy of `bits` grown to `bitLen`, new bits false. */
export function extendBits(bits: BitArray, bitLen: number): BitArray {
  if (bitLen < bits.bitLen) throw new RangeError(`cannot shrink a bitlist from ${bits.bitLen} to ${bitLen}`);
  const out = BitArray.fromBitLen(bitLen);
  out.uint8Array.set(bits.uint8Array);
  // Bits past the old length must read as false even if the source carried stray padding.
  const tail = bits.bitLen % 8;
  if (tail !== 0) {
    const lastByte = bits.uint8Array.length - 1;
    out.uint8Array[lastByte] = (out.uint8Array[lastByte] as number) & ((1 << tail) - 1);
  }
  return out;
}

/** A copy of `bits` with its first `count` bits removed (Python's `bits[count:]`). */
export function dropLeadingBits(bits: BitArray, count: number): BitArray {
  if (count <= 0) return bits.clone();
  const bitLen = Math.max(0, bits.bitLen - count);
  const out = BitArray.fromBitLen(bitLen);
  const byteShift = Math.floor(count / 8);
  const bitShift = count % 8;
  const src = bits.uint8Array;
  const dst = out.uint8Array;
  for (let i = 0; i < dst.length; i++) {
    const low = (src[i + byteShift] ?? 0) >> bitShift;
    const high = bitShift === 0 ? 0 : ((src[i + byteShift + 1] ?? 0) << (8 - bitShift)) & 0xff;
    dst[i] = low | high;
  }
  const tail = bitLen % 8;
  if (tail !== 0) {
    const lastByte = dst.length - 1;
    dst[lastByte] = (dst[lastByte] as number) & ((1 << tail) - 1);
  }
  return out;
}

/** A copy of `bits` with bit `index` set to true. */
export function withBitSet(bits: BitArray, index: number): BitArray {
  const out = bits.clone();
  out.set(index, true);
  return out;
}

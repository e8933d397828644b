// Devnet keys (PROTOCOL.md "Keys for devnets"): validator i's secret key is
// int.from_bytes(sha256(uint256_le(i)), 'little') mod r, the Ethereum interop scheme.
import { createHash } from "node:crypto";
import { SecretKey } from "@chainsafe/blst";

/** BLS12-381 subgroup order r. */
const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

function bytesToBigIntLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

function bigIntToBytesBE(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export function interopSecretKeyBytes(index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0) throw new Error(`invalid validator index ${index}`);
  const le = bigIntToBytesBE(BigInt(index), 32).reverse();
  const digest = createHash("sha256").update(le).digest();
  return bigIntToBytesBE(bytesToBigIntLE(digest) % CURVE_ORDER, 32);
}

export function interopSecretKey(index: number): SecretKey {
  return SecretKey.fromBytes(interopSecretKeyBytes(index));
}

/** Keys for validators [0, count). Derivation costs ~0.1 ms each; callers cache the result. */
export function interopSecretKeys(count: number): SecretKey[] {
  return Array.from({ length: count }, (_, i) => interopSecretKey(i));
}

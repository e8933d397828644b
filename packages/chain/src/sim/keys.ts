// Interop keys cost ~0.1 ms to derive and a simulation signs with each many times, so they are
// derived once per process. Indices are bounded by the registry limit, which caps the cache.
import { VALIDATOR_REGISTRY_LIMIT } from "../constants.ts";
import type { SecretKey } from "../crypto/bls.ts";
import { interopSecretKey } from "../crypto/interopKeys.ts";
import type { Validator } from "../ssz/types.ts";

const secretKeys = new Map<number, SecretKey>();
const publicKeys = new Map<number, Uint8Array>();

export function simSecretKey(index: number): SecretKey {
  if (!Number.isInteger(index) || index < 0 || index >= VALIDATOR_REGISTRY_LIMIT) {
    throw new RangeError(`validator index ${index} outside the registry limit`);
  }
  let key = secretKeys.get(index);
  if (key === undefined) {
    key = interopSecretKey(index);
    secretKeys.set(index, key);
  }
  return key;
}

export function simValidators(count: number): Validator[] {
  return Array.from({ length: count }, (_, index) => {
    let pubkey = publicKeys.get(index);
    if (pubkey === undefined) {
      pubkey = simSecretKey(index).toPublicKey().toBytes();
      publicKeys.set(index, pubkey);
    }
    return { pubkey, index };
  });
}

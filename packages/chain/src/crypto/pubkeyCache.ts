// The validator set is fixed at genesis, so every public key is decoded and group-checked once
// and reused for every signature check (decoding costs far more than a lookup).
import { aggregatePublicKeys, PublicKey } from "@chainsafe/blst";
import type { Validator } from "../ssz/types.ts";

export class PubkeyCache {
  private readonly keys: PublicKey[];

  constructor(validators: readonly Validator[]) {
    this.keys = validators.map((v, i) => {
      try {
        return PublicKey.fromBytes(v.pubkey, true);
      } catch (e) {
        throw new Error(`validator ${i} has an invalid BLS public key: ${(e as Error).message}`);
      }
    });
  }

  get size(): number {
    return this.keys.length;
  }

  has(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.keys.length;
  }

  /** Throws RangeError for an unknown index; callers check `has` on untrusted input. */
  get(index: number): PublicKey {
    const key = this.has(index) ? this.keys[index] : undefined;
    if (key === undefined) throw new RangeError(`no validator with index ${index}`);
    return key;
  }

  /** Every validator's key, index = validator index (for a verifier that keeps its own table). */
  all(): readonly PublicKey[] {
    return this.keys;
  }

  getMany(indices: readonly number[]): PublicKey[] {
    return indices.map((i) => this.get(i));
  }

  aggregate(indices: readonly number[]): PublicKey {
    return aggregatePublicKeys(this.getMany(indices));
  }
}

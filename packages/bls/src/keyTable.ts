// The validators' public keys where the verification runs. Lean validators are fixed at genesis,
// so the table is packed once (96 bytes uncompressed per validator, serialized once from keys the
// chain already decoded and group-checked), handed to every worker when its thread starts, and
// each key is decoded there the first time a set names it, then kept. Sets then carry validator
// indices instead of key bytes: no per-set key serialization or aggregation on the main thread, no
// per-set key decoding in the worker.
import { blst, type PublicKey } from "@metronome/chain";

export const PACKED_KEY_LENGTH = 96;
/** Serialized infinity points carry this flag in their first byte. */
const INFINITY_FLAG = 0x40;

/** Callers pass keys that were decoded and group-checked (the chain's PubkeyCache). */
export function packValidatorKeys(keys: readonly PublicKey[]): Uint8Array {
  const packed = new Uint8Array(keys.length * PACKED_KEY_LENGTH);
  keys.forEach((key, i) => {
    packed.set(key.toBytes(false), i * PACKED_KEY_LENGTH);
  });
  return packed;
}

/** What a worker thread receives as its piscina workerData. */
export interface BlsWorkerData {
  validatorKeys: Uint8Array;
}

export function isBlsWorkerData(value: unknown): value is BlsWorkerData {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as BlsWorkerData).validatorKeys instanceof Uint8Array &&
    (value as BlsWorkerData).validatorKeys.length % PACKED_KEY_LENGTH === 0
  );
}

export class ValidatorKeyTable {
  readonly size: number;
  /** Keys decoded so far (each validator's at most once; for tests and the stats). */
  decodes = 0;
  private readonly keys: (PublicKey | null | undefined)[];
  private readonly packed: Uint8Array | null;

  private constructor(size: number, packed: Uint8Array | null, keys: (PublicKey | null | undefined)[]) {
    this.size = size;
    this.packed = packed;
    this.keys = keys;
  }

  /** From packed bytes: each key is decoded on first use. */
  static fromPacked(packed: Uint8Array): ValidatorKeyTable {
    const size = Math.floor(packed.length / PACKED_KEY_LENGTH);
    return new ValidatorKeyTable(size, packed, new Array<PublicKey | null | undefined>(size));
  }

  /** From decoded keys, as the main-thread verifier has them: nothing to decode. */
  static fromKeys(keys: readonly PublicKey[]): ValidatorKeyTable {
    return new ValidatorKeyTable(keys.length, null, keys.slice());
  }

  /** Null for an index outside the table or bytes that do not decode. */
  get(index: number): PublicKey | null {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return null;
    const cached = this.keys[index];
    if (cached !== undefined) return cached;
    const key = this.decode(index);
    this.keys[index] = key;
    return key;
  }

  /** One validator's key, or the aggregate of several (an aggregate's participants); null if any is unknown. */
  resolve(indices: ArrayLike<number>): PublicKey | null {
    if (indices.length === 1) return this.get(indices[0] as number);
    if (indices.length === 0) return null;
    const keys: PublicKey[] = new Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const key = this.get(indices[i] as number);
      if (key === null) return null;
      keys[i] = key;
    }
    try {
      // Every key was checked when the chain first decoded it: skip blst's per-key validation.
      return blst.aggregatePublicKeys(keys, false);
    } catch {
      return null;
    }
  }

  private decode(index: number): PublicKey | null {
    if (this.packed === null) return null;
    const offset = index * PACKED_KEY_LENGTH;
    const bytes = this.packed.subarray(offset, offset + PACKED_KEY_LENGTH);
    this.decodes++;
    if (((bytes[0] ?? 0) & INFINITY_FLAG) !== 0) return null;
    try {
      return blst.PublicKey.fromBytes(bytes);
    } catch {
      return null;
    }
  }
}

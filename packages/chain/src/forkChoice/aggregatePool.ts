// Verified aggregates kept for block production: at most one per attestation data. Two aggregates
// for one data are combined when their participants are disjoint (BLS aggregation is additive),
// otherwise the one with more participants is kept. Capped by distinct data; the oldest slot goes first.
// What the pool holds also answers gossip's cheapest question about an aggregate: does it add any
// participant this node has not already verified for its data (`covers`)?
import { BitArray } from "@chainsafe/ssz";
import { aggregateSignatureBytes } from "../crypto/bls.ts";
import { attestationDataKey } from "../ssz/keys.ts";
import type { AggregationBits, AttestationData, SignedAggregatedAttestation } from "../ssz/types.ts";

export const DEFAULT_AGGREGATE_POOL_MAX_DATA = 256;
/** Aggregates older than this many slots behind the clock are dropped: they can no longer help justify. */
export const DEFAULT_AGGREGATE_POOL_SLOT_WINDOW = 64;

export type PoolAddOutcome = "added" | "merged" | "replaced" | "ignored";

export interface AggregatePoolOptions {
  maxData?: number;
  slotWindow?: number;
}

function disjointUnion(a: AggregationBits, b: AggregationBits): AggregationBits | null {
  const aSet = a.getTrueBitIndexes();
  const bSet = b.getTrueBitIndexes();
  const out = BitArray.fromBitLen(Math.max(a.bitLen, b.bitLen));
  for (const i of aSet) out.set(i, true);
  for (const i of bSet) {
    if (out.get(i)) return null;
    out.set(i, true);
  }
  return out;
}

/** True when every participant of `bits` is also in `of` (a subset, equal included). */
export function isSubsetOf(bits: AggregationBits, of: AggregationBits): boolean {
  const mine = bits.uint8Array;
  const theirs = of.uint8Array;
  for (let i = 0; i < mine.length; i++) {
    // A byte beyond `of` must be empty; within it, no bit may be set that `of` lacks.
    if ((mine[i] as number) & ~(theirs[i] ?? 0)) return false;
  }
  return true;
}

export class AggregatePool {
  private readonly byData = new Map<string, SignedAggregatedAttestation>();
  readonly maxData: number;
  readonly slotWindow: number;

  constructor(opts: AggregatePoolOptions = {}) {
    this.maxData = opts.maxData ?? DEFAULT_AGGREGATE_POOL_MAX_DATA;
    this.slotWindow = opts.slotWindow ?? DEFAULT_AGGREGATE_POOL_SLOT_WINDOW;
  }

  get size(): number {
    return this.byData.size;
  }

  get(data: AttestationData): SignedAggregatedAttestation | undefined {
    return this.byData.get(attestationDataKey(data));
  }

  /**
   * True when the aggregate held for `data` already has every participant of `bits`: such an
   * aggregate adds no vote and nothing to block production. The held one was verified (only
   * verified aggregates are added), so its bits are real signers, not a sender's claim.
   */
  covers(data: AttestationData, bits: AggregationBits): boolean {
    // No participant is no vote at all, not a known one: left to the checks that reject it
    // (EMPTY_AGGREGATION_BITS), so its sender is penalised rather than quietly ignored.
    if (!bits.uint8Array.some((byte) => byte !== 0)) return false;
    const held = this.byData.get(attestationDataKey(data));
    return held !== undefined && isSubsetOf(bits, held.aggregationBits);
  }

  values(): SignedAggregatedAttestation[] {
    return [...this.byData.values()];
  }

  /** The caller has verified `agg`'s signature; the pool only combines and selects. */
  add(agg: SignedAggregatedAttestation): PoolAddOutcome {
    const key = attestationDataKey(agg.data);
    const held = this.byData.get(key);
    if (held === undefined) {
      if (this.byData.size >= this.maxData && !this.evictOlderThan(agg.data.slot)) return "ignored";
      this.byData.set(key, agg);
      return "added";
    }
    const union = disjointUnion(held.aggregationBits, agg.aggregationBits);
    if (union !== null) {
      try {
        const signature = aggregateSignatureBytes([held.signature, agg.signature]);
        this.byData.set(key, { aggregationBits: union, data: held.data, signature });
        return "merged";
      } catch {
        // A malformed signature cannot be combined; fall through to "keep the larger".
      }
    }
    if (agg.aggregationBits.getTrueBitIndexes().length > held.aggregationBits.getTrueBitIndexes().length) {
      this.byData.set(key, agg);
      return "replaced";
    }
    return "ignored";
  }

  /** Drops the entry with the oldest slot if it is older than `slot`; returns whether room was made. */
  private evictOlderThan(slot: number): boolean {
    let oldestKey: string | undefined;
    let oldestSlot = slot;
    for (const [key, agg] of this.byData) {
      if (agg.data.slot < oldestSlot) {
        oldestSlot = agg.data.slot;
        oldestKey = key;
      }
    }
    if (oldestKey === undefined) return false;
    this.byData.delete(oldestKey);
    return true;
  }

  /** Drops stale entries: slot at/below finalized, outside the window, or failing `keep`. */
  prune(finalizedSlot: number, currentSlot: number, keep?: (data: AttestationData) => boolean): number {
    let dropped = 0;
    for (const [key, agg] of this.byData) {
      const slot = agg.data.slot;
      if (slot <= finalizedSlot || slot + this.slotWindow < currentSlot || (keep !== undefined && !keep(agg.data))) {
        this.byData.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.byData.clear();
  }
}

// Builds the flood's gossip payloads (snappy-compressed SSZ, ready to publish) for every kind but
// "duplicate" (the flooder re-sends earlier bytes for that). It holds the devnet's interop keys.
//
// - valid: attestation data over canonical blocks the target knows, with data.slot at least two
//   slots behind the clock. Such votes pass every check and a full signature verification, yet
//   change nothing: fork choice keeps each validator's newest vote only, and the aggregator's
//   collector ignores slots that old, so the flood never competes with the honest votes that
//   justify and finalize (a flooder holding validator keys could otherwise split them). Each
//   (data, validator) pair makes one single attestation, so valid singles are naturally limited
//   per slot (data variants x validators); aggregates over subsets of a variant's signers cost one
//   point addition per signer, not a signature, and are plenty (11,440 per variant). Each subset has
//   just over half the signers (overlappingSubset), so the target can neither merge two nor drop one
//   as adding no participant to what it holds: every aggregate costs it a full verification.
// - redundant: valid aggregates that add no participant. For each variant the full aggregate of its
//   signers goes first (one verification), then proper subsets of it: a target that ignores an
//   aggregate adding no participant to the one it holds (GossipIngress) drops them unchecked; one
//   that does not verifies every one. A flooder holding keys gets this for one point addition each.
// - invalid_sig: valid data with a real signature of another validator or over other data: passes
//   every structural check and fails only the pairing, so each one costs the target a full check.
// - unknown_root: correctly signed votes for a random head root: they pass the signature check,
//   go to the pending buffer and ask the block fetcher for a root nobody has.
// - future_slot: slots far ahead, dropped on arrival by the target's cheap slot check.
// - malformed: random bytes, truncated snappy, and snappy of bytes that are no SSZ container.
import { randomBytes } from "node:crypto";
import {
  type AttestationData,
  aggregateSignatureObjects,
  attestationDataKey,
  interopSecretKey,
  type SecretKey,
  type Signature,
  SigningDomains,
} from "@metronome/chain";
import { compressBlock } from "@metronome/network";
import type { ChainSnapshot } from "./chainView.ts";
import {
  cloneCheckpoint,
  encodeAggregate,
  encodeSingle,
  type FactoryKind,
  type FloodPayload,
  type FloodTopic,
  overlappingSubset,
  randomSubsetOfSize,
  shuffle,
  validDataVariants,
} from "./payloadData.ts";

export interface PayloadFactoryOptions {
  validatorCount: number;
  forkDigest: Uint8Array;
  /** Secret key of validator i; the interop key by default. */
  secretKey?: (index: number) => SecretKey;
  random?: () => number;
}

export interface PayloadFactoryStats {
  signatures: number;
  variants: number;
  produced: Record<FactoryKind, number>;
  validSingles: number;
  validAggregates: number;
  /** Requests that could not be filled (no chain snapshot yet, or no valid data to build on). */
  unfilled: Record<FactoryKind, number>;
}

/** Data variants kept at once; the oldest by data slot goes first. */
export const MAX_VARIANTS = 64;
/** New variants taken from one snapshot, freshest first. */
const MAX_NEW_VARIANTS_PER_SNAPSHOT = 16;
/** Signers per variant whose signatures aggregates are built from. */
const AGGREGATE_SIGNERS = 16;
/** Validators signing each random unknown root (each root then yields singles and aggregates). */
const UNKNOWN_ROOT_SIGNERS = 4;
const VALID_SINGLE_SHARE = 0.5;
/** Valid aggregates remembered to avoid repeats (cleared when full). */
const MAX_REMEMBERED_AGGREGATES = 100_000;
const INVALID_AGGREGATE_SHARE = 0.25;
/** future_slot votes are this many slots or more ahead: far beyond any buffering window. */
const FUTURE_SLOT_OFFSET = 64;

interface Variant {
  key: string;
  data: AttestationData;
  signingRoot: Uint8Array;
  signatures: Map<number, Signature>;
  /** Next validator to emit as a single attestation; singles run out at validatorCount. */
  nextSingle: number;
  /** Whether the "redundant" kind has sent this variant's full aggregate (its subsets follow it). */
  fullAggregateSent: boolean;
}

interface UnknownRootBatch {
  queue: FloodPayload[];
}

export class PayloadFactory {
  readonly validatorCount: number;
  private readonly domains: SigningDomains;
  private readonly secretKeyOf: (index: number) => SecretKey;
  private readonly keys = new Map<number, SecretKey>();
  private readonly random: () => number;
  private readonly variants = new Map<string, Variant>();
  private snapshot: ChainSnapshot | null = null;
  private unknownBatch: UnknownRootBatch = { queue: [] };
  private readonly sentAggregates = new Set<string>();
  /** The signature invalid singles currently carry, and the next validator to claim it. */
  private foreign: { signature: Uint8Array; nextClaimed: number } | null = null;
  /** A few real signatures, reused where only the bytes' shape matters (future_slot). */
  private readonly spareSignatures: Uint8Array[] = [];
  private readonly counters: PayloadFactoryStats = {
    signatures: 0,
    variants: 0,
    produced: { valid: 0, redundant: 0, invalid_sig: 0, unknown_root: 0, future_slot: 0, malformed: 0 },
    validSingles: 0,
    validAggregates: 0,
    unfilled: { valid: 0, redundant: 0, invalid_sig: 0, unknown_root: 0, future_slot: 0, malformed: 0 },
  };

  constructor(options: PayloadFactoryOptions) {
    if (!Number.isInteger(options.validatorCount) || options.validatorCount < 2) {
      throw new RangeError(`the flood needs at least 2 validators, got ${options.validatorCount}`);
    }
    this.validatorCount = options.validatorCount;
    this.domains = new SigningDomains(options.forkDigest);
    this.secretKeyOf = options.secretKey ?? interopSecretKey;
    this.random = options.random ?? Math.random;
  }

  /** Takes a fresh view of the target's chain: new data variants, stale ones dropped. */
  setSnapshot(snapshot: ChainSnapshot): void {
    this.snapshot = snapshot;
    // A variant naming a block below finality refers to a pruned block: no longer valid.
    for (const [key, v] of this.variants) {
      if (Math.min(v.data.source.slot, v.data.target.slot, v.data.head.slot) < snapshot.finalized.slot) {
        this.variants.delete(key);
      }
    }
    for (const data of validDataVariants(snapshot).slice(0, MAX_NEW_VARIANTS_PER_SNAPSHOT)) {
      const key = attestationDataKey(data);
      if (this.variants.has(key)) continue;
      this.variants.set(key, {
        key,
        data,
        signingRoot: this.domains.attestationSigningRoot(data),
        signatures: new Map(),
        nextSingle: 0,
        fullAggregateSent: false,
      });
    }
    if (this.variants.size > MAX_VARIANTS) {
      const oldestFirst = [...this.variants.values()].sort((a, b) => a.data.slot - b.data.slot);
      for (const v of oldestFirst.slice(0, this.variants.size - MAX_VARIANTS)) this.variants.delete(v.key);
    }
    // Unknown-root votes are built on the newest justified checkpoint.
    this.unknownBatch = { queue: [] };
  }

  get hasSnapshot(): boolean {
    return this.snapshot !== null;
  }

  /** Up to `count` payloads of `kind` (fewer when the chain view cannot support more yet). */
  produce(kind: FactoryKind, count: number): FloodPayload[] {
    const out: FloodPayload[] = [];
    for (let i = 0; i < count; i++) {
      const payload = this.produceOne(kind);
      if (payload === null) {
        this.counters.unfilled[kind] += count - i;
        break;
      }
      this.counters.produced[kind]++;
      out.push(payload);
    }
    return out;
  }

  stats(): PayloadFactoryStats {
    return {
      ...this.counters,
      variants: this.variants.size,
      produced: { ...this.counters.produced },
      unfilled: { ...this.counters.unfilled },
    };
  }

  private produceOne(kind: FactoryKind): FloodPayload | null {
    switch (kind) {
      case "valid":
        return this.valid();
      case "redundant":
        return this.redundant();
      case "invalid_sig":
        return this.invalidSignature();
      case "unknown_root":
        return this.unknownRoot();
      case "future_slot":
        return this.futureSlot();
      case "malformed":
        return this.malformed();
    }
  }

  // ---- valid -------------------------------------------------------------------------------

  private valid(): FloodPayload | null {
    if (this.variants.size === 0) return null;
    if (this.random() < VALID_SINGLE_SHARE) {
      const variant = this.variantWithSinglesLeft();
      if (variant !== null) {
        const index = variant.nextSingle++;
        this.counters.validSingles++;
        return this.single("valid", index, variant.data, this.signatureOf(variant, index).toBytes());
      }
    }
    // A participant set already sent for this data would be a byte-identical repeat.
    for (let attempt = 0; attempt < 8; attempt++) {
      const variant = this.randomVariant();
      const subset = overlappingSubset(this.aggregateSigners(variant), this.random);
      const key = `${variant.key}:${subset.join(",")}`;
      if (this.sentAggregates.has(key)) continue;
      this.rememberAggregate(key);
      this.counters.validAggregates++;
      return this.aggregate("valid", subset, variant.data, this.aggregateOf(variant, subset));
    }
    return null;
  }

  private variantWithSinglesLeft(): Variant | null {
    // Newest variants first: they stay valid the longest.
    let best: Variant | null = null;
    for (const v of this.variants.values()) {
      if (v.nextSingle >= this.validatorCount) continue;
      if (best === null || v.data.slot > best.data.slot) best = v;
    }
    return best;
  }

  // ---- redundant -------------------------------------------------------------------------

  private redundant(): FloodPayload | null {
    if (this.variants.size === 0) return null;
    for (let attempt = 0; attempt < 8; attempt++) {
      const variant = this.randomVariant();
      const signers = this.aggregateSigners(variant);
      if (!variant.fullAggregateSent) {
        variant.fullAggregateSent = true;
        return this.aggregate("redundant", signers, variant.data, this.aggregateOf(variant, signers));
      }
      if (signers.length < 2) continue;
      // A proper subset, 1 to n - 1 signers: each adds nothing to the full aggregate sent before.
      const subset = randomSubsetOfSize(signers, 1 + Math.floor(this.random() * (signers.length - 1)), this.random);
      const key = `redundant:${variant.key}:${subset.join(",")}`;
      if (this.sentAggregates.has(key)) continue;
      this.rememberAggregate(key);
      return this.aggregate("redundant", subset, variant.data, this.aggregateOf(variant, subset));
    }
    return null;
  }

  // ---- invalid signature -------------------------------------------------------------------

  private invalidSignature(): FloodPayload | null {
    if (this.variants.size === 0) return null;
    const variant = this.randomVariant();
    if (this.random() < INVALID_AGGREGATE_SHARE) {
      // The bits name one more participant than the signature covers.
      const subset = overlappingSubset(this.aggregateSigners(variant), this.random);
      const key = `invalid:${variant.key}:${subset.join(",")}`;
      if (!this.sentAggregates.has(key)) {
        this.rememberAggregate(key);
        return this.aggregate("invalid_sig", subset, variant.data, this.aggregateOf(variant, subset.slice(1)));
      }
    }
    // A real signature over other bytes, claimed in turn by every validator: each message is
    // unique (gossipsub drops repeats before they cost the target anything) for one signing per
    // validatorCount messages.
    if (this.foreign === null || this.foreign.nextClaimed >= this.validatorCount) {
      const signer = Math.floor(this.random() * this.validatorCount);
      this.foreign = { signature: this.sign(signer, new Uint8Array(randomBytes(32))).toBytes(), nextClaimed: 0 };
    }
    const claimed = this.foreign.nextClaimed++;
    return this.single("invalid_sig", claimed, variant.data, this.foreign.signature);
  }

  // ---- unknown root ------------------------------------------------------------------------

  private unknownRoot(): FloodPayload | null {
    const snapshot = this.snapshot;
    if (snapshot === null) return null;
    if (this.unknownBatch.queue.length === 0) this.unknownBatch = this.newUnknownRootBatch(snapshot);
    return this.unknownBatch.queue.shift() ?? null;
  }

  /** One random head root: singles by each of a few signers, and aggregates of their subsets. */
  private newUnknownRootBatch(snapshot: ChainSnapshot): UnknownRootBatch {
    const slot = Math.max(snapshot.currentSlot, snapshot.head.slot);
    const data: AttestationData = {
      slot,
      head: { root: new Uint8Array(randomBytes(32)), slot },
      target: cloneCheckpoint(snapshot.justified),
      source: cloneCheckpoint(snapshot.justified),
    };
    const root = this.domains.attestationSigningRoot(data);
    const signers = this.randomDistinctIndices(Math.min(UNKNOWN_ROOT_SIGNERS, this.validatorCount));
    const signatures = new Map<number, Signature>();
    for (const i of signers) signatures.set(i, this.sign(i, root));
    const queue: FloodPayload[] = signers.map((i) =>
      this.single("unknown_root", i, data, (signatures.get(i) as Signature).toBytes()),
    );
    // Every subset of two or more signers: 2^k - k - 1 aggregates for k signatures.
    for (let mask = 1; mask < 1 << signers.length; mask++) {
      const subset = signers.filter((_, i) => (mask & (1 << i)) !== 0);
      if (subset.length < 2) continue;
      const sig = aggregateSignatureObjects(subset.map((i) => signatures.get(i) as Signature));
      queue.push(this.aggregate("unknown_root", subset, data, sig));
    }
    return { queue: shuffle(queue, this.random) };
  }

  // ---- future slot, malformed --------------------------------------------------------------

  private futureSlot(): FloodPayload | null {
    const snapshot = this.snapshot;
    if (snapshot === null) return null;
    const slot = snapshot.currentSlot + FUTURE_SLOT_OFFSET + Math.floor(this.random() * 1_000_000);
    const data: AttestationData = {
      slot,
      head: cloneCheckpoint(snapshot.head),
      target: cloneCheckpoint(snapshot.justified),
      source: cloneCheckpoint(snapshot.justified),
    };
    // Never checked by the target: any well-formed signature bytes do.
    const signature = this.spareSignature();
    if (this.random() < 0.5) {
      return this.single("future_slot", Math.floor(this.random() * this.validatorCount), data, signature);
    }
    return this.aggregate("future_slot", this.randomDistinctIndices(2), data, signature);
  }

  private malformed(): FloodPayload {
    const topic: FloodTopic = this.random() < 0.5 ? "attestation" : "aggregation";
    const flavour = Math.floor(this.random() * 3);
    if (flavour === 0) {
      return { kind: "malformed", topic, bytes: new Uint8Array(randomBytes(20 + Math.floor(this.random() * 280))) };
    }
    if (flavour === 1) {
      // A real payload cut short: the snappy stream ends mid-way. Cut in its second half, past the
      // random slot (and validator index) that make each one distinct: cut near the start, two of
      // them were the same bytes, which the target takes for a duplicate, not a malformed message.
      const whole = this.futureSlot()?.bytes ?? new Uint8Array(randomBytes(64));
      const half = Math.floor(whole.length / 2);
      const cut = half + Math.floor(this.random() * (whole.length - 1 - half));
      return { kind: "malformed", topic, bytes: whole.slice(0, cut) };
    }
    // Well-formed snappy around bytes no SSZ container decodes from (wrong length).
    const ssz = new Uint8Array(randomBytes(10 + Math.floor(this.random() * 100)));
    return { kind: "malformed", topic, bytes: compressBlock(ssz) };
  }

  // ---- building blocks ---------------------------------------------------------------------

  private single(kind: FactoryKind, validatorIndex: number, data: AttestationData, signature: Uint8Array) {
    return encodeSingle(kind, validatorIndex, data, signature);
  }

  private aggregate(kind: FactoryKind, participants: number[], data: AttestationData, signature: Uint8Array) {
    return encodeAggregate(kind, participants, this.validatorCount, data, signature);
  }

  private rememberAggregate(key: string): void {
    if (this.sentAggregates.size >= MAX_REMEMBERED_AGGREGATES) this.sentAggregates.clear();
    this.sentAggregates.add(key);
  }

  private randomVariant(): Variant {
    const all = [...this.variants.values()];
    return all[Math.floor(this.random() * all.length)] as Variant;
  }

  /** The variant's first signers (signed on first use), the pool its aggregates draw from. */
  private aggregateSigners(variant: Variant): number[] {
    const n = Math.min(AGGREGATE_SIGNERS, this.validatorCount);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      this.signatureOf(variant, i);
      out.push(i);
    }
    return out;
  }

  private aggregateOf(variant: Variant, participants: number[]): Uint8Array {
    return aggregateSignatureObjects(participants.map((i) => this.signatureOf(variant, i)));
  }

  private signatureOf(variant: Variant, index: number): Signature {
    let sig = variant.signatures.get(index);
    if (sig === undefined) {
      sig = this.sign(index, variant.signingRoot);
      variant.signatures.set(index, sig);
    }
    return sig;
  }

  private sign(index: number, message: Uint8Array): Signature {
    let key = this.keys.get(index);
    if (key === undefined) {
      key = this.secretKeyOf(index);
      this.keys.set(index, key);
    }
    this.counters.signatures++;
    const sig = key.sign(message);
    if (this.spareSignatures.length < 16) this.spareSignatures.push(sig.toBytes());
    return sig;
  }

  private spareSignature(): Uint8Array {
    if (this.spareSignatures.length === 0) this.sign(0, new Uint8Array(32));
    return this.spareSignatures[Math.floor(this.random() * this.spareSignatures.length)] as Uint8Array;
  }

  private randomDistinctIndices(count: number): number[] {
    const taken = new Set<number>();
    while (taken.size < count) taken.add(Math.floor(this.random() * this.validatorCount));
    return [...taken].sort((a, b) => a - b);
  }
}

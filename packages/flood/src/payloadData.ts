// Pure pieces of the flood's payloads: which vote data is valid yet harmless, SSZ bitlists, and
// the random choices the factory makes, and the wire encoding both ways. No keys, no signing:
// payloadFactory.ts does that.
import {
  AggregationBits,
  type AttestationData,
  type Checkpoint,
  SignedAggregatedAttestation,
  SignedAttestation,
} from "@metronome/chain";
import { compressBlock, uncompressBlock } from "@metronome/network";
import type { ChainSnapshot } from "./chainView.ts";
import type { FloodKind } from "./mix.ts";

export type FactoryKind = Exclude<FloodKind, "duplicate">;
export type FloodTopic = "attestation" | "aggregation";

export interface FloodPayload {
  kind: FactoryKind;
  topic: FloodTopic;
  /** Wire bytes: snappy block format over SSZ (or garbage, for "malformed"). */
  bytes: Uint8Array;
}

/** A single attestation's wire bytes. */
export function encodeSingle(
  kind: FactoryKind,
  validatorIndex: number,
  data: AttestationData,
  signature: Uint8Array,
): FloodPayload {
  const ssz = SignedAttestation.serialize({ validatorIndex, data, signature });
  return { kind, topic: "attestation", bytes: compressBlock(ssz) };
}

/** An aggregate's wire bytes: `participants` as bits over `validatorCount`. */
export function encodeAggregate(
  kind: FactoryKind,
  participants: readonly number[],
  validatorCount: number,
  data: AttestationData,
  signature: Uint8Array,
): FloodPayload {
  const aggregationBits = AggregationBits.deserialize(bitlistBytes(participants, validatorCount));
  const ssz = SignedAggregatedAttestation.serialize({ aggregationBits, data, signature });
  return { kind, topic: "aggregation", bytes: compressBlock(ssz) };
}

/** A payload read back as its topic's container. */
export type DecodedFloodPayload =
  | { topic: "attestation"; value: SignedAttestation }
  | { topic: "aggregation"; value: SignedAggregatedAttestation };

/** Reads a payload's wire bytes as the target does; throws where it would refuse them (malformed). */
export function decodeFloodPayload(payload: FloodPayload): DecodedFloodPayload {
  const ssz = uncompressBlock(payload.bytes);
  return payload.topic === "attestation"
    ? { topic: "attestation", value: SignedAttestation.deserialize(ssz) }
    : { topic: "aggregation", value: SignedAggregatedAttestation.deserialize(ssz) };
}

/**
 * Valid vote data over the snapshot's canonical blocks that cannot sway consensus: data.slot at
 * most current-2 (older than every honest validator's latest vote, and too old for the
 * aggregator), target no newer than the justified checkpoint (never eligible for a block: a block
 * only takes votes from the justified source to a not-yet-justified target). Freshest first.
 */
export function validDataVariants(snapshot: ChainSnapshot): AttestationData[] {
  const maxDataSlot = snapshot.currentSlot - 2;
  const blocks = snapshot.blocks
    .filter((b) => b.slot >= snapshot.finalized.slot && b.slot <= maxDataSlot)
    .sort((a, b) => b.slot - a.slot);
  const out: AttestationData[] = [];
  for (const target of blocks) {
    if (target.slot > snapshot.justified.slot) continue;
    for (const source of blocks) {
      if (source.slot > target.slot) continue;
      for (const head of blocks) {
        if (head.slot < target.slot) continue;
        for (let slot = maxDataSlot; slot >= Math.max(head.slot, maxDataSlot - 2); slot--) {
          out.push({
            slot,
            head: cloneCheckpoint(head),
            target: cloneCheckpoint(target),
            source: cloneCheckpoint(source),
          });
        }
      }
    }
  }
  // Freshest: highest source, then target, then head, then data slot.
  return out.sort(
    (a, b) =>
      b.source.slot - a.source.slot || b.target.slot - a.target.slot || b.head.slot - a.head.slot || b.slot - a.slot,
  );
}

export function cloneCheckpoint(cp: Checkpoint): Checkpoint {
  return { root: Uint8Array.from(cp.root), slot: cp.slot };
}

/** SSZ bitlist bytes: the participant bits, then the length delimiter bit. */
export function bitlistBytes(participants: readonly number[], bitLen: number): Uint8Array {
  const bytes = new Uint8Array(Math.floor(bitLen / 8) + 1);
  for (const i of participants) bytes[i >> 3] = (bytes[i >> 3] as number) | (1 << (i & 7));
  bytes[bitLen >> 3] = (bytes[bitLen >> 3] as number) | (1 << (bitLen & 7));
  return bytes;
}

/**
 * A random subset of `from` with just over half its members (floor(n / 2) + 1), ascending. Any two
 * such subsets share a member, so a target never merges two into one, and neither contains the
 * other unless they are equal, so a target that ignores an aggregate adding no participant to the
 * one it holds (GossipIngress) cannot refuse one for having seen another: each costs it a
 * verification. With 16 signers there are C(16, 9) = 11,440 of them.
 */
export function overlappingSubset(from: readonly number[], random: () => number): number[] {
  return randomSubsetOfSize(from, Math.floor(from.length / 2) + 1, random);
}

/** `size` members of `from` picked at random, ascending. */
export function randomSubsetOfSize(from: readonly number[], size: number, random: () => number): number[] {
  return shuffle([...from], random)
    .slice(0, size)
    .sort((a, b) => a - b);
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

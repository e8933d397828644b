// A structured clone keeps plain objects, numbers and Uint8Arrays but drops class prototypes: the
// aggregation bitlists (@chainsafe/ssz BitArray) arrive as { uint8Array, bitLen } without their
// methods. These put the prototype back, in place, on exactly the fields that hold one. Measured
// (packages/network/bench/boundaryCodec.ts): cloning and reviving a vote costs the receiving
// thread less than decoding its SSZ bytes there, so decoded values cross, not bytes.
import { AggregationBits, type SignedAggregatedAttestation, type SignedBlock } from "@metronome/chain";
import type { GossipValueByKind } from "../gossip/codec.ts";
import type { GossipKind } from "../gossip/topics.ts";

const BIT_ARRAY_PROTOTYPE = Object.getPrototypeOf(AggregationBits.defaultValue()) as object;

function reviveBits(holder: { aggregationBits: unknown }): void {
  const bits = holder.aggregationBits;
  if (typeof bits === "object" && bits !== null && Object.getPrototypeOf(bits) !== BIT_ARRAY_PROTOTYPE) {
    Object.setPrototypeOf(bits, BIT_ARRAY_PROTOTYPE);
  }
}

export function reviveAggregate(aggregate: SignedAggregatedAttestation): SignedAggregatedAttestation {
  reviveBits(aggregate);
  return aggregate;
}

export function reviveBlock(block: SignedBlock): SignedBlock {
  for (const attestation of block.block.body.attestations) reviveBits(attestation);
  return block;
}

export function reviveBlocks(blocks: SignedBlock[]): SignedBlock[] {
  for (const block of blocks) reviveBlock(block);
  return blocks;
}

export function reviveGossipValue<K extends GossipKind>(kind: K, value: GossipValueByKind[K]): GossipValueByKind[K] {
  if (kind === "aggregation") reviveAggregate(value as SignedAggregatedAttestation);
  else if (kind === "block") reviveBlock(value as SignedBlock);
  return value;
}

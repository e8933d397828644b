// A vote crossing to the driver thread carries its roots and signature in one buffer: the same
// bytes, one allocation on the receiving side instead of four, and nothing shared between votes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { SignedAggregatedAttestation, SignedAttestation } from "@metronome/chain";
import { packGossipValue, packVoteBytes } from "../src/boundary/packVote.ts";
import { reviveAggregate } from "../src/boundary/revive.ts";
import { sampleAggregate, sampleAttestation, sampleBlock } from "./fixtures.ts";

/** Each vote decoded from its own bytes, as the worker's gossip handler gets it. */
const decodedAttestation = (i: number) =>
  SignedAttestation.deserialize(SignedAttestation.serialize(sampleAttestation(i)));
const decodedAggregate = () =>
  SignedAggregatedAttestation.deserialize(SignedAggregatedAttestation.serialize(sampleAggregate()));

/** What the driver thread receives for `values` posted in one message. */
function crossed<T>(values: T[]): T[] {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(values);
  const got = receiveMessageOnPort(port2)?.message as T[];
  port1.close();
  return got;
}

const rootsAndSignature = (v: { data: SignedAttestation["data"]; signature: Uint8Array }) => [
  v.data.head.root,
  v.data.target.root,
  v.data.source.root,
  v.signature,
];

describe("packVoteBytes", () => {
  it("keeps every byte of an attestation and an aggregate", () => {
    const attestation = decodedAttestation(7);
    const before = SignedAttestation.serialize(attestation);
    assert.deepEqual(SignedAttestation.serialize(packVoteBytes(attestation)), before);
    const aggregate = decodedAggregate();
    const aggregateBefore = SignedAggregatedAttestation.serialize(aggregate);
    const rootBefore = SignedAggregatedAttestation.hashTreeRoot(aggregate);
    packVoteBytes(aggregate);
    assert.deepEqual(SignedAggregatedAttestation.serialize(aggregate), aggregateBefore);
    assert.deepEqual(SignedAggregatedAttestation.hashTreeRoot(aggregate), rootBefore);
  });

  it("puts the roots and the signature in one buffer, exactly their bytes, and leaves the bits apart", () => {
    const aggregate = packVoteBytes(decodedAggregate());
    const parts = rootsAndSignature(aggregate);
    const buffer = parts[0]?.buffer;
    for (const part of parts) assert.equal(part.buffer, buffer);
    assert.equal(buffer?.byteLength, 3 * 32 + 96, "no byte beyond the fields");
    assert.notEqual(aggregate.aggregationBits.uint8Array.buffer, buffer);
  });

  it("crosses a thread boundary as one ArrayBuffer per vote, not one per field (four without packing)", () => {
    const buffersPerVote = (votes: SignedAttestation[]) => {
      const got = crossed(votes);
      const buffers = new Set(got.flatMap((v) => rootsAndSignature(v).map((p) => p.buffer)));
      return buffers.size / votes.length;
    };
    const votes = () => Array.from({ length: 16 }, (_, i) => decodedAttestation(i));
    assert.equal(buffersPerVote(votes()), 4);
    assert.equal(buffersPerVote(votes().map((v) => packGossipValue("attestation", v))), 1);
  });

  it("a packed aggregate revived on the other side is the same aggregate", () => {
    const sent = packGossipValue("aggregation", decodedAggregate());
    const [got] = crossed([sent]);
    assert.ok(got !== undefined);
    reviveAggregate(got);
    assert.deepEqual(SignedAggregatedAttestation.serialize(got), SignedAggregatedAttestation.serialize(sent));
    assert.equal(got.aggregationBits.getTrueBitIndexes().length, sent.aggregationBits.getTrueBitIndexes().length);
  });

  it("leaves a block as it is", () => {
    const block = sampleBlock(3);
    const signature = block.signature;
    assert.equal(packGossipValue("block", block).signature, signature);
  });
});

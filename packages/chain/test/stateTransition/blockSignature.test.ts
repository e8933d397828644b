import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RejectionCode } from "../../src/errors.ts";
import type { SignedBlock } from "../../src/ssz/types.ts";
import {
  getBlockSignatureSet,
  getIndexedBlockSignatureSet,
  signBlock,
  verifyBlockSignature,
  verifySignedBlock,
} from "../../src/stateTransition/index.ts";
import {
  buildBlock,
  buildChain,
  isCode,
  makeFixture,
  secretKeyOf,
  signBuilt,
  toAggregated,
  type Vote,
  voteData,
  voteSignature,
} from "./helpers.ts";

const fx = makeFixture(8);
const [b1, b2] = buildChain(fx, fx.genesis, [1, 2]);
const votes: Vote[] = [
  { data: voteData(b2!.checkpoint, b1!.checkpoint, fx.genesisCheckpoint), indices: [0, 2, 5, 6, 7] },
  { data: voteData(b2!.checkpoint, b2!.checkpoint, fx.genesisCheckpoint), indices: [1, 3] },
];
const built = buildBlock(fx, b2!.postState, 3, votes);
const signed = signBuilt(fx, built.block, votes);

function verify(s: SignedBlock): void {
  verifySignedBlock(fx.pubkeys, s, fx.domains);
}

describe("block signature", () => {
  it("verifies a correctly signed block with attestations, and one without", () => {
    assert.doesNotThrow(() => verify(signed));
    const empty = buildBlock(fx, b2!.postState, 3);
    assert.doesNotThrow(() => verify(signFor(empty.block.proposerIndex, empty.block, [])));
  });

  it("builds the message and key lists in protocol order", () => {
    const set = getBlockSignatureSet(fx.pubkeys, signed, fx.domains);
    assert.equal(set.messages.length, 3);
    assert.deepEqual(set.messages[0], fx.domains.blockSigningRoot(built.block));
    assert.deepEqual(set.messages[1], fx.domains.attestationSigningRoot(votes[0]!.data));
    assert.deepEqual(set.messages[2], fx.domains.attestationSigningRoot(votes[1]!.data));
    assert.deepEqual(set.publicKeys[0]!.toBytes(), fx.pubkeys.get(built.block.proposerIndex).toBytes());
    assert.deepEqual(set.publicKeys[1]!.toBytes(), fx.pubkeys.aggregate(votes[0]!.indices).toBytes());
    assert.equal(set.signature, signed.signature);
  });

  it("the indexed set names the same signers by index, for a verifier holding the keys", () => {
    const set = getBlockSignatureSet(fx.pubkeys, signed, fx.domains);
    const indexed = getIndexedBlockSignatureSet(fx.pubkeys, signed, fx.domains);
    assert.deepEqual(indexed.messages, set.messages);
    assert.deepEqual(indexed.signers, [[built.block.proposerIndex], votes[0]!.indices, votes[1]!.indices]);
    indexed.signers.forEach((signers, i) => {
      assert.deepEqual(fx.pubkeys.aggregate(signers).toBytes(), set.publicKeys[i]!.toBytes());
    });
    assert.equal(indexed.signature, signed.signature);
  });

  it("the indexed set refuses what the keyed one refuses, with the same codes", () => {
    const outOfRange = { block: { ...built.block, proposerIndex: fx.n }, signature: signed.signature };
    for (const get of [getBlockSignatureSet, getIndexedBlockSignatureSet]) {
      assert.throws(() => get(fx.pubkeys, outOfRange, fx.domains), isCode(RejectionCode.PROPOSER_INDEX_OUT_OF_RANGE));
    }
    const stranger = { ...votes[1]!, indices: [1, fx.n], bitLen: fx.n + 1 };
    const body = { attestations: [toAggregated(fx, votes[0]!), toAggregated(fx, stranger)] };
    const badVoter = { block: { ...built.block, body }, signature: signed.signature };
    for (const get of [getBlockSignatureSet, getIndexedBlockSignatureSet]) {
      assert.throws(() => get(fx.pubkeys, badVoter, fx.domains), isCode(RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE));
    }
  });

  it("rejects a signature by the wrong key", () => {
    const wrongProposer = (built.block.proposerIndex + 1) % fx.n;
    const bad = signFor(
      wrongProposer,
      built.block,
      votes.map((v) => voteSignature(fx, v)),
    );
    assert.throws(() => verify(bad), isCode(RejectionCode.INVALID_BLOCK_SIGNATURE));
  });

  it("rejects a tampered block", () => {
    const tampered = { block: { ...built.block, stateRoot: new Uint8Array(32).fill(1) }, signature: signed.signature };
    assert.throws(() => verify(tampered), isCode(RejectionCode.INVALID_BLOCK_SIGNATURE));
    // Claiming an extra participant also changes the key the aggregate must match.
    const moreVoters = { ...votes[1]!, indices: [1, 3, 4] };
    const body = { attestations: [toAggregated(fx, votes[0]!), toAggregated(fx, moreVoters)] };
    assert.throws(
      () => verify({ block: { ...built.block, body }, signature: signed.signature }),
      isCode(RejectionCode.INVALID_BLOCK_SIGNATURE),
    );
  });

  it("rejects a signature over the wrong message", () => {
    const proposer = secretKeyOf(built.block.proposerIndex);
    // The proposer signs the attestation root instead of the block, or another block.
    const wrongMessage = proposer.sign(fx.domains.attestationSigningRoot(votes[0]!.data)).toBytes();
    assert.throws(
      () => verify({ block: { ...built.block, body: { attestations: [] } }, signature: wrongMessage }),
      isCode(RejectionCode.INVALID_BLOCK_SIGNATURE),
    );
    const otherBlock = signFor(built.block.proposerIndex, b2!.block, []);
    assert.throws(
      () => verify({ block: { ...built.block, body: { attestations: [] } }, signature: otherBlock.signature }),
      isCode(RejectionCode.INVALID_BLOCK_SIGNATURE),
    );
    // Attestation signatures over different data than the body carries.
    const swapped = signBlock(
      built.block,
      proposer,
      [voteSignature(fx, { ...votes[0]!, data: votes[1]!.data }), voteSignature(fx, votes[1]!)],
      fx.domains,
    );
    assert.throws(
      () => verify({ block: built.block, signature: swapped }),
      isCode(RejectionCode.INVALID_BLOCK_SIGNATURE),
    );
  });

  it("rejects malformed signature bytes without crashing", () => {
    for (const signature of [new Uint8Array(96).fill(0xff), new Uint8Array(96), new Uint8Array(95)]) {
      assert.throws(() => verify({ block: built.block, signature }), isCode(RejectionCode.INVALID_BLOCK_SIGNATURE));
    }
  });

  it("rejects out-of-range and empty participants before any crypto", () => {
    const outOfRange = { ...votes[0]!, indices: [0, fx.n], bitLen: fx.n + 1 };
    const body = { attestations: [toAggregated(fx, outOfRange)] };
    assert.throws(
      () => verify({ block: { ...built.block, body }, signature: signed.signature }),
      isCode(RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE),
    );
    const empty = { attestations: [toAggregated(fx, { ...votes[0]!, indices: [] })] };
    assert.throws(
      () => verify({ block: { ...built.block, body: empty }, signature: signed.signature }),
      isCode(RejectionCode.EMPTY_AGGREGATION_BITS),
    );
    assert.throws(
      () => verify({ block: { ...built.block, proposerIndex: fx.n }, signature: signed.signature }),
      isCode(RejectionCode.PROPOSER_INDEX_OUT_OF_RANGE),
    );
  });

  it("verifySignedBlock checks the body rules first", () => {
    const dup = { attestations: [toAggregated(fx, votes[0]!), toAggregated(fx, { ...votes[0]!, indices: [1] })] };
    assert.throws(
      () => verify({ block: { ...built.block, body: dup }, signature: signed.signature }),
      isCode(RejectionCode.DUPLICATE_ATTESTATION_DATA),
    );
    // The signature-only check does not apply body rules.
    assert.throws(
      () =>
        verifyBlockSignature(
          fx.pubkeys,
          { block: { ...built.block, body: dup }, signature: signed.signature },
          fx.domains,
        ),
      isCode(RejectionCode.INVALID_BLOCK_SIGNATURE),
    );
  });

  it("signBlock refuses a signature count that does not match the body", () => {
    assert.throws(() => signBlock(built.block, secretKeyOf(built.block.proposerIndex), [], fx.domains));
  });
});

function signFor(signer: number, block: SignedBlock["block"], attestationSignatures: Uint8Array[]): SignedBlock {
  return { block, signature: signBlock(block, secretKeyOf(signer), attestationSignatures, fx.domains) };
}

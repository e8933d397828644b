import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RejectionCode } from "../../src/errors.ts";
import type { Block } from "../../src/ssz/types.ts";
import {
  assertValidBlockBody,
  processAttestations,
  processBlock,
  processBlockHeader,
  processSlots,
  stateTransition,
} from "../../src/stateTransition/index.ts";
import { buildBlock, buildChain, isCode, makeFixture, range, toAggregated, type Vote, voteData } from "./helpers.ts";

const fx = makeFixture(4);
const [b1, b2] = buildChain(fx, fx.genesis, [1, 2]);
const state2 = b2!.postState;

function withBlock(base: Block, change: Partial<Block>): Block {
  return { ...base, ...change };
}

/** Nine votes with distinct data (they differ only in the attestation slot). */
function distinctVotes(count: number): Vote[] {
  return range(0, count).map((i) => ({
    data: voteData(b2!.checkpoint, b1!.checkpoint, fx.genesisCheckpoint, 2 + i),
    indices: [0, 1, 2],
  }));
}

describe("block header checks", () => {
  const good = buildBlock(fx, state2, 3);

  it("accepts the well-formed block", () => {
    const post = stateTransition(state2, good.block);
    assert.equal(post.slot, 3);
  });

  it("rejects the wrong proposer", () => {
    const block = withBlock(good.block, { proposerIndex: (good.block.proposerIndex + 1) % fx.n });
    assert.throws(() => stateTransition(state2, block), isCode(RejectionCode.WRONG_PROPOSER));
  });

  it("rejects the wrong parent root", () => {
    const block = withBlock(good.block, { parentRoot: b1!.root });
    assert.throws(() => stateTransition(state2, block), isCode(RejectionCode.PARENT_ROOT_MISMATCH));
  });

  it("rejects the wrong state root", () => {
    const block = withBlock(good.block, { stateRoot: b2!.block.stateRoot });
    assert.throws(() => stateTransition(state2, block), isCode(RejectionCode.STATE_ROOT_MISMATCH));
  });

  it("rejects a block whose slot differs from the state slot", () => {
    const advanced = processSlots(state2, 4);
    assert.throws(() => processBlockHeader(advanced, good.block), isCode(RejectionCode.BLOCK_SLOT_MISMATCH));
  });

  it("rejects a block not newer than the latest header", () => {
    // state2 sits at slot 2 with a slot-2 header: the slot matches but the block is not newer.
    const block = withBlock(good.block, { slot: 2, proposerIndex: 2 });
    assert.throws(() => processBlockHeader(state2, block), isCode(RejectionCode.BLOCK_OLDER_THAN_LATEST_HEADER));
  });

  it("rejects a block at or before the state slot in the full transition", () => {
    assert.throws(() => stateTransition(state2, b2!.block), isCode(RejectionCode.BLOCK_SLOT_NOT_IN_FUTURE));
  });
});

describe("block body checks", () => {
  it("rejects two attestations with equal data", () => {
    const [vote] = distinctVotes(1);
    const block = buildBlock(fx, state2, 3, [vote!, { ...vote!, indices: [3] }]).block;
    assert.throws(() => assertValidBlockBody(block), isCode(RejectionCode.DUPLICATE_ATTESTATION_DATA));
    // The transition itself admits split aggregates of one data, as leanSpec does.
    assert.doesNotThrow(() => stateTransition(state2, block));
  });

  it("rejects nine distinct attestation data, accepts eight", () => {
    const eight = distinctVotes(8).map((v) => toAggregated(fx, v));
    const nine = distinctVotes(9).map((v) => toAggregated(fx, v));
    const base = buildBlock(fx, state2, 3).block;
    assert.doesNotThrow(() => assertValidBlockBody({ ...base, body: { attestations: eight } }));
    assert.throws(
      () => assertValidBlockBody({ ...base, body: { attestations: nine } }),
      isCode(RejectionCode.TOO_MANY_ATTESTATION_DATA),
    );
    assert.throws(
      () => processBlock(processSlots(state2, 3), { ...base, body: { attestations: nine } }),
      isCode(RejectionCode.TOO_MANY_ATTESTATION_DATA),
    );
  });

  it("rejects an out-of-range validator bit in a counted vote", () => {
    const vote: Vote = {
      data: voteData(b2!.checkpoint, b1!.checkpoint, fx.genesisCheckpoint),
      indices: [0, fx.n],
      bitLen: fx.n + 1,
    };
    const header = processBlockHeader(processSlots(state2, 3), buildBlock(fx, state2, 3).block);
    assert.throws(
      () => processAttestations(header, [toAggregated(fx, vote)]),
      isCode(RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE),
    );
  });

  it("ignores an out-of-range bit in a vote the filters drop, like leanSpec", () => {
    // The target is not on this chain, so the vote never reaches the tally.
    const offChain = { root: new Uint8Array(32).fill(7), slot: 1 };
    const vote: Vote = {
      data: voteData(b2!.checkpoint, offChain, fx.genesisCheckpoint),
      indices: [fx.n + 3],
      bitLen: fx.n + 4,
    };
    const header = processBlockHeader(processSlots(state2, 3), buildBlock(fx, state2, 3).block);
    assert.doesNotThrow(() => processAttestations(header, [toAggregated(fx, vote)]));
  });

  it("rejects empty aggregation bits in a counted vote", () => {
    const vote: Vote = { data: voteData(b2!.checkpoint, b1!.checkpoint, fx.genesisCheckpoint), indices: [] };
    const header = processBlockHeader(processSlots(state2, 3), buildBlock(fx, state2, 3).block);
    assert.throws(
      () => processAttestations(header, [toAggregated(fx, vote)]),
      isCode(RejectionCode.EMPTY_AGGREGATION_BITS),
    );
  });

  it("rejects a vote whose target lies beyond the tracked window", () => {
    const future = { root: b2!.root, slot: 40 };
    const vote: Vote = { data: voteData(future, future, fx.genesisCheckpoint), indices: [0, 1, 2] };
    const header = processBlockHeader(processSlots(state2, 3), buildBlock(fx, state2, 3).block);
    assert.throws(
      () => processAttestations(header, [toAggregated(fx, vote)]),
      isCode(RejectionCode.JUSTIFIED_SLOT_OUT_OF_RANGE),
    );
  });
});

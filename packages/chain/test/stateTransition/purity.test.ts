import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RejectionCode } from "../../src/errors.ts";
import { toHex } from "../../src/ssz/codec.ts";
import { State } from "../../src/ssz/types.ts";
import {
  processAttestations,
  processBlock,
  processBlockHeader,
  processSlots,
  stateTransition,
  transitionWithoutStateRootCheck,
} from "../../src/stateTransition/index.ts";
import {
  type BuiltBlock,
  blockBytes,
  buildBlock,
  buildChain,
  isCode,
  makeFixture,
  range,
  stateBytes,
  type Vote,
  voteData,
} from "./helpers.ts";

const fx = makeFixture(16);
const chain = buildChain(fx, fx.genesis, [1, 2, 4, 5]);
const [b1, b2, b4, b5] = chain as [BuiltBlock, BuiltBlock, BuiltBlock, BuiltBlock];
const g = fx.genesisCheckpoint;
const vote = (target: BuiltBlock, source: { root: Uint8Array; slot: number }, indices: number[]): Vote => ({
  data: voteData(target.checkpoint, target.checkpoint, source),
  indices,
});

// A pre-state that already carries pending tallies and justified bits, so the transition below
// touches every field it can: history, justified bits (set and rebased), tallies, checkpoints.
const pre = buildBlock(fx, b5.postState, 6, [vote(b1, g, range(0, 11)), vote(b4, g, [3, 4])]).postState;
const votes = [vote(b2, b1.checkpoint, range(0, 12)), vote(b5, g, [7])];
const block = buildBlock(fx, pre, 9, votes).block;

describe("purity and determinism", () => {
  it("never mutates the pre-state or the block", () => {
    const preBefore = stateBytes(pre);
    const blockBefore = blockBytes(block);
    const post = stateTransition(pre, block);
    // The block justifies b2 and finalizes b1, so bitlists were rebuilt and tallies pruned.
    assert.equal(post.latestFinalized.slot, 1);
    assert.equal(post.latestJustified.slot, 2);
    assert.equal(stateBytes(pre), preBefore);
    assert.equal(blockBytes(block), blockBefore);

    // Each step on its own is pure too, and so is a failing transition.
    const advanced = processSlots(pre, 9);
    assert.equal(stateBytes(pre), preBefore);
    const advancedBefore = stateBytes(advanced);
    const header = processBlockHeader(advanced, block);
    assert.equal(stateBytes(advanced), advancedBefore);
    const headerBefore = stateBytes(header);
    processAttestations(header, block.body.attestations);
    assert.equal(stateBytes(header), headerBefore);
    assert.throws(
      () => stateTransition(pre, { ...block, stateRoot: new Uint8Array(32) }),
      isCode(RejectionCode.STATE_ROOT_MISMATCH),
    );
    assert.equal(stateBytes(pre), preBefore);
    assert.equal(blockBytes(block), blockBefore);
  });

  it("fields the block changes are fresh copies, so writing to them cannot reach the inputs", () => {
    const preBefore = stateBytes(pre);
    const blockBefore = blockBytes(block);
    const post = transitionWithoutStateRootCheck(pre, block);
    post.justifiedSlots.set(0, false);
    post.latestJustified.root.fill(9);
    post.latestFinalized.root.fill(9);
    post.historicalBlockHashes.push(new Uint8Array(32));
    post.latestBlockHeader.stateRoot.fill(9);
    if (post.justificationsValidators.bitLen > 0) post.justificationsValidators.set(0, true);
    assert.equal(stateBytes(pre), preBefore);
    assert.equal(blockBytes(block), blockBefore);
  });

  it("gives the same post-state root on every run and from a decoded copy", () => {
    const first = State.hashTreeRoot(stateTransition(pre, block));
    const second = State.hashTreeRoot(stateTransition(pre, block));
    const decodedPre = State.deserialize(State.serialize(pre));
    const fromCopy = State.hashTreeRoot(processBlock(processSlots(decodedPre, block.slot), block));
    assert.equal(toHex(first), toHex(second));
    assert.equal(toHex(first), toHex(fromCopy));
    assert.equal(toHex(first), toHex(block.stateRoot));
  });

  it("skipped slots leave zero hashes in the history", () => {
    const post = stateTransition(pre, block);
    const zero = toHex(new Uint8Array(32));
    // Slots 3, 7 and 8 had no block; slot 6 holds the pre-state's block.
    const history = post.historicalBlockHashes.map(toHex);
    assert.equal(history.length, 9);
    assert.deepEqual([history[3], history[7], history[8]], [zero, zero, zero]);
    assert.deepEqual(
      [history[0], history[1], history[2], history[4], history[5]],
      [g.root, b1.root, b2.root, b4.root, b5.root].map(toHex),
    );
    assert.notEqual(history[6], zero);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareBytes, toHex } from "../../src/ssz/codec.ts";
import type { State } from "../../src/ssz/types.ts";
import { isSlotJustified, stateTransition } from "../../src/stateTransition/index.ts";
import { type BuiltBlock, buildBlock, buildChain, makeFixture, range, type Vote, voteData } from "./helpers.ts";

// 16 validators: 11 votes reach 2/3 (3*11 = 33 >= 32), 10 do not.
const fx = makeFixture(16);
const SUPERMAJORITY = range(0, 11);
const MINORITY = range(0, 10);
const chain = buildChain(fx, fx.genesis, [1, 2, 3, 4, 5]);
const [b1, b2, b3, b4, b5] = chain as [BuiltBlock, BuiltBlock, BuiltBlock, BuiltBlock, BuiltBlock];
const g = fx.genesisCheckpoint;

function vote(target: BuiltBlock, source: { root: Uint8Array; slot: number }, indices: number[]): Vote {
  return { data: voteData(target.checkpoint, target.checkpoint, source), indices };
}

/** Build the block (state root from the transition) and re-check it with the full transition. */
function apply(state: State, slot: number, votes: Vote[]): BuiltBlock {
  const built = buildBlock(fx, state, slot, votes);
  const post = stateTransition(state, built.block);
  assert.equal(toHex(post.latestJustified.root), toHex(built.postState.latestJustified.root));
  return built;
}

const hex = toHex;

describe("3SF-mini justification", () => {
  it("justifies a target with 2/3 of the validators", () => {
    const { postState } = apply(b5.postState, 6, [vote(b1, g, SUPERMAJORITY)]);
    assert.deepEqual([hex(postState.latestJustified.root), postState.latestJustified.slot], [hex(b1.root), 1]);
    assert.equal(isSlotJustified(postState.justifiedSlots, 0, 1), true);
    assert.equal(postState.justificationsRoots.length, 0, "a justified target's tally is dropped");
    assert.equal(postState.justificationsValidators.bitLen, 0);
    // The source was the finalized genesis itself, so nothing new is finalized.
    assert.equal(postState.latestFinalized.slot, 0);
  });

  it("does not justify below 2/3 but keeps the tally, and votes accumulate across blocks", () => {
    const first = apply(b5.postState, 6, [vote(b1, g, MINORITY)]).postState;
    assert.equal(first.latestJustified.slot, 0);
    assert.equal(isSlotJustified(first.justifiedSlots, 0, 1), false);
    assert.deepEqual(first.justificationsRoots.map(hex), [hex(b1.root)]);
    assert.deepEqual(first.justificationsValidators.getTrueBitIndexes(), MINORITY);

    // A repeated voter adds nothing; one new voter tips it over.
    const repeat = apply(first, 7, [vote(b1, g, [0, 1, 2])]).postState;
    assert.equal(repeat.latestJustified.slot, 0);
    const tipped = apply(repeat, 8, [vote(b1, g, [10])]).postState;
    assert.equal(tipped.latestJustified.slot, 1);
    assert.equal(tipped.justificationsRoots.length, 0);
  });

  it("finalizes the source when no justifiable slot lies between source and target", () => {
    const justifiedB1 = apply(b5.postState, 6, [vote(b1, g, SUPERMAJORITY)]).postState;
    const post = apply(justifiedB1, 7, [vote(b2, b1.checkpoint, SUPERMAJORITY)]).postState;
    assert.deepEqual([hex(post.latestJustified.root), post.latestJustified.slot], [hex(b2.root), 2]);
    assert.deepEqual([hex(post.latestFinalized.root), post.latestFinalized.slot], [hex(b1.root), 1]);
    // Rebased onto finalized slot 1: the bitlist now starts at slot 2 and covers slots 2..6.
    assert.deepEqual(post.justifiedSlots.toBoolArray(), [true, false, false, false, false]);
    assert.equal(isSlotJustified(post.justifiedSlots, 1, 2), true);
    assert.equal(isSlotJustified(post.justifiedSlots, 1, 3), false);
  });

  it("does not finalize when a justifiable slot lies between", () => {
    const justifiedB1 = apply(b5.postState, 6, [vote(b1, g, SUPERMAJORITY)]).postState;
    // Slot 2 lies between source 1 and target 3 and is justifiable (delta 2 <= 5).
    const post = apply(justifiedB1, 7, [vote(b3, b1.checkpoint, SUPERMAJORITY)]).postState;
    assert.equal(post.latestJustified.slot, 3);
    assert.equal(post.latestFinalized.slot, 0);
    assert.deepEqual(post.justifiedSlots.toBoolArray(), [true, false, true, false, false, false]);
  });

  it("ignores votes from an unjustified source, backwards votes and unjustifiable targets", () => {
    const fromUnjustified = apply(b5.postState, 6, [vote(b3, b2.checkpoint, SUPERMAJORITY)]).postState;
    assert.equal(fromUnjustified.latestJustified.slot, 0);
    assert.equal(fromUnjustified.justificationsRoots.length, 0, "a filtered vote leaves no tally");

    // 7 slots after genesis finalization is not justifiable (7 is neither square nor pronic).
    const long = buildChain(fx, b5.postState, [6, 7]);
    const b7 = long[1] as BuiltBlock;
    const unjustifiable = apply(b7.postState, 8, [vote(b7, g, SUPERMAJORITY)]).postState;
    assert.equal(unjustifiable.latestJustified.slot, 0);
    assert.equal(unjustifiable.justificationsRoots.length, 0);

    // With b3 justified, a vote from b3 back to the unjustified b2 goes nowhere.
    const justifiedB3 = apply(b5.postState, 6, [vote(b3, g, SUPERMAJORITY)]).postState;
    const backwards = apply(justifiedB3, 7, [vote(b2, b3.checkpoint, SUPERMAJORITY)]).postState;
    assert.equal(isSlotJustified(backwards.justifiedSlots, 0, 2), false);
    assert.equal(backwards.latestJustified.slot, 3);
    assert.equal(backwards.justificationsRoots.length, 0);
  });

  it("never moves the justified checkpoint backwards within a block", () => {
    const post = apply(b5.postState, 6, [vote(b3, g, SUPERMAJORITY), vote(b2, g, SUPERMAJORITY)]).postState;
    assert.deepEqual([hex(post.latestJustified.root), post.latestJustified.slot], [hex(b3.root), 3]);
    assert.equal(isSlotJustified(post.justifiedSlots, 0, 2), true, "the earlier target is still marked");
    assert.equal(isSlotJustified(post.justifiedSlots, 0, 3), true);
    assert.equal(post.latestFinalized.slot, 0);
  });

  it("keeps pending roots sorted and prunes them at finalization", () => {
    const pending = apply(b5.postState, 6, [vote(b4, g, [0, 1]), vote(b1, g, [2, 3, 4]), vote(b5, g, [5])]).postState;
    const roots = pending.justificationsRoots;
    assert.equal(roots.length, 3);
    for (let i = 1; i < roots.length; i++) assert.ok(compareBytes(roots[i - 1]!, roots[i]!) < 0, "sorted");
    assert.equal(pending.justificationsValidators.bitLen, 3 * fx.n);
    // Each root's segment carries exactly its own voters.
    const expected = new Map([
      [hex(b4.root), [0, 1]],
      [hex(b1.root), [2, 3, 4]],
      [hex(b5.root), [5]],
    ]);
    roots.forEach((root, position) => {
      const segment = range(0, fx.n).filter((v) => pending.justificationsValidators.get(position * fx.n + v));
      assert.deepEqual(segment, expected.get(hex(root)));
    });

    // Justify b2 from genesis, then b3 from b2: b2 is finalized and b1's tally (slot 1 <= 2) is pruned.
    const post = apply(pending, 7, [vote(b2, g, SUPERMAJORITY), vote(b3, b2.checkpoint, SUPERMAJORITY)]).postState;
    assert.equal(post.latestJustified.slot, 3);
    assert.deepEqual([hex(post.latestFinalized.root), post.latestFinalized.slot], [hex(b2.root), 2]);
    const left = [b4, b5]
      .map((b) => b.root)
      .sort(compareBytes)
      .map(hex);
    assert.deepEqual(post.justificationsRoots.map(hex), left);
    assert.equal(post.justificationsValidators.bitLen, 2 * fx.n);
    // Rebased onto slot 2: slots 3..6 with slot 3 justified.
    assert.deepEqual(post.justifiedSlots.toBoolArray(), [true, false, false, false]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { INTERVALS_PER_SLOT } from "../../src/constants.ts";
import { coverageShare, measureVoteCoverage } from "../../src/forkChoice/voteCoverage.ts";
import type { AttestationData } from "../../src/ssz/types.ts";
import { attData, makeGenesis, newStore } from "./helpers.ts";

const g = makeGenesis(4);
/** A vote of data slot `slot` on the genesis block (the only block the store needs). */
const voteAt = (slot: number): AttestationData => attData(slot, g.checkpoint, g.checkpoint, g.checkpoint);

describe("honest-vote coverage", () => {
  it("counts validators whose counted vote is for the slot or later, out of every validator", () => {
    const votes = new Map<number, AttestationData>([
      [0, voteAt(7)],
      [1, voteAt(8)],
      [2, voteAt(6)],
    ]);
    const c = measureVoteCoverage(7, 4, (i) => votes.get(i));
    assert.deepEqual(c, { slot: 7, applied: 2, expected: 4 });
    assert.equal(coverageShare(c), 0.5);
    assert.equal(coverageShare({ slot: 0, applied: 0, expected: 0 }), 1);
  });

  it("the store measures slot s as it leaves slot s+1, from counted votes only", () => {
    const store = newStore(g);
    // Slot 3: validators 0..2 vote; the store accepts them at interval 4.
    store.onTick(3 * INTERVALS_PER_SLOT + 1, false);
    store.onAttestation(voteAt(3), [0, 1, 2]);
    store.onTick(3 * INTERVALS_PER_SLOT + 4, false);
    // Slot 4: validator 3's slot-3 vote arrives late and is never accepted before slot 5 starts.
    store.onTick(4 * INTERVALS_PER_SLOT + 4, false);
    store.onAttestation(voteAt(3), [3]);
    assert.equal(store.voteCoverage.last?.slot, 2, "slot 3 is not measured before slot 5 starts");
    store.onTick(5 * INTERVALS_PER_SLOT, false);
    const stats = store.voteCoverage;
    assert.deepEqual(stats.last, { slot: 3, applied: 3, expected: 4 });
  });

  it("a catch-up over several slots records only the last slot it reaches", () => {
    const store = newStore(g);
    store.onTick(2 * INTERVALS_PER_SLOT, false);
    const before = store.voteCoverage.slots;
    store.onTick(10 * INTERVALS_PER_SLOT + 2, false);
    const after = store.voteCoverage;
    assert.equal(after.slots, before + 1);
    assert.equal(after.last?.slot, 8);
  });

  it("running totals add up each measured slot", () => {
    const store = newStore(g);
    for (let slot = 1; slot <= 6; slot++) {
      store.onTick(slot * INTERVALS_PER_SLOT + 1, false);
      store.onAttestation(voteAt(slot), [0, 1]);
      store.onTick(slot * INTERVALS_PER_SLOT + 4, false);
    }
    store.onTick(7 * INTERVALS_PER_SLOT, false);
    const s = store.voteCoverage;
    // Slots 0..5 measured (at the starts of slots 2..7), each two of four: slot 0 had no vote, but
    // a newer counted vote (slot 1) supersedes it.
    assert.equal(s.slots, 6);
    assert.equal(s.expected, 24);
    assert.equal(s.applied, 12);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_ATTESTATIONS_DATA,
  processBlock,
  processSlots,
  selectBlockAttestations,
  ZERO_ROOT,
} from "../../src/index.ts";
import { aggregate, attData, buildChain, genesisParent, makeGenesis } from "../forkChoice/helpers.ts";

describe("block attestation selection", () => {
  it("fills the 8 data slots by new votes, so repeated voters cannot crowd out the ones that justify", () => {
    const g = makeGenesis(12);
    const chain = buildChain(g, genesisParent(g), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const head = chain[chain.length - 1];
    const target = chain[0];
    assert.ok(head && target);
    const source = { root: g.root, slot: 0 };
    // Nine stale aggregates by the same three validators (each a distinct data: different heads)...
    const stale = chain
      .slice(0, 9)
      .map((b) => aggregate(g, [0, 1, 2], attData(b.checkpoint.slot, b.checkpoint, target.checkpoint, source)));
    // ...and one aggregate of seven other validators, the one that matters.
    const fresh = chain[9];
    assert.ok(fresh);
    const useful = aggregate(g, [3, 4, 5, 6, 7, 8, 9], attData(10, fresh.checkpoint, target.checkpoint, source));
    const template = { slot: 13, proposerIndex: 13 % 12, parentRoot: head.root };
    const chosen = selectBlockAttestations(head.postState, template, [...stale, useful], () => true);

    assert.ok(chosen.length <= MAX_ATTESTATIONS_DATA);
    assert.ok(chosen.includes(useful), "the aggregate adding 7 new votes must be chosen");
    const post = processBlock(processSlots(head.postState, 13), {
      ...template,
      stateRoot: ZERO_ROOT,
      body: { attestations: chosen.map((a) => ({ aggregationBits: a.aggregationBits, data: a.data })) },
    });
    // 10 of 12 validators voted for slot 1: it is justified by this block.
    assert.equal(post.latestJustified.slot, 1);
  });

  it("skips aggregates whose target is not justifiable after the finalized slot", () => {
    const g = makeGenesis(4);
    const chain = buildChain(g, genesisParent(g), [1, 2, 3, 4, 5, 6, 7, 8]);
    const head = chain[7];
    const seventh = chain[6];
    assert.ok(head && seventh);
    // delta 7 from finalized slot 0 is neither <= 5, a square nor pronic.
    const agg = aggregate(g, [0, 1, 2], attData(8, head.checkpoint, seventh.checkpoint, { root: g.root, slot: 0 }));
    const chosen = selectBlockAttestations(
      head.postState,
      { slot: 9, proposerIndex: 1, parentRoot: head.root },
      [agg],
      () => true,
    );
    assert.deepEqual(chosen, []);
  });
});

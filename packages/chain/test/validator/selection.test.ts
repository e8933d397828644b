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

  it("genesis self-votes justify nothing, so they never take a data slot from votes that do", () => {
    // Seen in a 16-node devnet: a genesis self-vote (target = source = genesis) of 96 voters was
    // packed first into every block for 30 slots, as if its voters were new votes.
    const g = makeGenesis(12);
    const chain = buildChain(g, genesisParent(g), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const head = chain[chain.length - 1];
    const target = chain[0];
    assert.ok(head && target);
    const genesis = { root: g.root, slot: 0 };
    const everyone = Array.from({ length: 12 }, (_, i) => i);
    const selfVote = aggregate(
      g,
      everyone,
      attData(3, (chain[2] as (typeof chain)[number]).checkpoint, genesis, genesis),
    );
    // Eight single votes for slot 1, each with its own head (eight distinct data): all eight are
    // needed for two thirds of 12.
    const useful = chain
      .slice(2, 2 + MAX_ATTESTATIONS_DATA)
      .map((b, i) => aggregate(g, [i], attData(b.checkpoint.slot, b.checkpoint, target.checkpoint, genesis)));
    const template = { slot: 13, proposerIndex: 13 % 12, parentRoot: head.root };
    const chosen = selectBlockAttestations(head.postState, template, [selfVote, ...useful], () => true);

    assert.equal(chosen.length, MAX_ATTESTATIONS_DATA);
    assert.ok(!chosen.includes(selfVote), "the self-vote took a data slot from a vote that justifies");
    const post = processBlock(processSlots(head.postState, 13), {
      ...template,
      stateRoot: ZERO_ROOT,
      body: { attestations: chosen.map((x) => ({ aggregationBits: x.aggregationBits, data: x.data })) },
    });
    assert.equal(post.latestJustified.slot, 1, "8 of 12 votes for slot 1 justify it");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ChainError,
  ForkChoiceStore,
  type RejectionCode,
  rootKey,
  type SignedBlock,
  State,
  signAttestation,
  toHex,
  transitionWithoutStateRootCheck,
} from "../../src/index.ts";
import { isJustifiableAfter } from "../../src/stateTransition/slot.ts";
import { buildBlock as buildUnsignedBlock } from "../../src/validator/produceBlock.ts";
import {
  aggregate,
  attData,
  type BuiltBlock,
  buildBlock,
  buildChain,
  type Genesis,
  genesisParent,
  makeGenesis,
  newStore,
} from "./helpers.ts";

const g = makeGenesis(4);

function throwsCode(fn: () => unknown, code: RejectionCode): void {
  assert.throws(fn, (e: unknown) => e instanceof ChainError && e.code === code, `expected ${code}`);
}

function importAll(store: ForkChoiceStore, blocks: BuiltBlock[]): void {
  for (const b of blocks) store.onBlock(b.signed);
}

/** A vote for `head` (source genesis, target head) recorded as "new" for `indices`. */
function voteFor(store: ForkChoiceStore, head: BuiltBlock, indices: number[], slot = head.checkpoint.slot): void {
  store.onAttestation(attData(slot, head.checkpoint, head.checkpoint, g.checkpoint), indices);
}

const sameRoot = (a: Uint8Array, b: Uint8Array) => assert.equal(toHex(a), toHex(b));

// G ─ b1(1) ─ a2(2) ─ a4(4)
//          └── c3(3)
function forks(gen: Genesis = g) {
  const b1 = buildBlock(gen, genesisParent(gen), 1);
  const a2 = buildBlock(gen, b1, 2);
  const c3 = buildBlock(gen, b1, 3);
  const a4 = buildBlock(gen, a2, 4);
  return { b1, a2, c3, a4 };
}
const F = forks();

describe("ForkChoiceStore: anchor and import", () => {
  it("starts at the anchor, justified and finalized there", () => {
    const store = newStore(g);
    sameRoot(store.head.root, g.root);
    assert.deepEqual(store.latestJustified, g.checkpoint);
    assert.deepEqual(store.latestFinalized, g.checkpoint);
    assert.equal(store.time, 0);
    assert.equal(store.blockCount, 1);
  });

  it("refuses an anchor whose block does not commit to the state", () => {
    const other = makeGenesis(5);
    throwsCode(() => new ForkChoiceStore(other.state, g.block, g.pubkeys, g.domains), "ANCHOR_STATE_ROOT_MISMATCH");
  });

  it("imports a chain and follows it", () => {
    const store = newStore(g);
    const chain = buildChain(g, genesisParent(g), [1, 2, 3]);
    for (const b of chain) {
      const res = store.onBlock(b.signed);
      assert.equal(res.alreadyKnown, false);
      sameRoot(res.root, b.root);
      assert.equal(State.hashTreeRoot(res.postState).length, 32);
      sameRoot(State.hashTreeRoot(res.postState), b.signed.block.stateRoot);
      assert.equal(res.headUpdate.changed, true);
      assert.equal(res.headUpdate.reorg, null);
      sameRoot(res.headUpdate.newHead.root, b.root);
    }
    assert.equal(store.blockCount, 4);
    assert.equal(store.isAncestor(chain[0]!.root, chain[2]!.root), true);
    assert.equal(store.isAncestor(chain[2]!.root, chain[0]!.root), false);
    sameRoot(store.getAncestorAtSlot(chain[2].root, 1)!.root, chain[0]!.root);
    assert.deepEqual(store.getBlockSummary(chain[1]!.root), { slot: 2, parentRoot: chain[0]!.root });
    assert.equal(store.getBlockSummary(new Uint8Array(32)), undefined);
  });

  it("a duplicate import is a no-op", () => {
    const store = newStore(g);
    store.onBlock(F.b1.signed);
    const again = store.onBlock(F.b1.signed);
    assert.equal(again.alreadyKnown, true);
    assert.equal(again.headUpdate.changed, false);
    assert.equal(store.blockCount, 2);
  });

  it("rejects a block whose parent is unknown, naming the parent", () => {
    const store = newStore(g);
    assert.throws(
      () => store.onBlock(F.a2.signed),
      (e: unknown) =>
        e instanceof ChainError &&
        e.code === "UNKNOWN_PARENT_BLOCK" &&
        toHex(e.details?.parentRoot as Uint8Array) === toHex(F.b1.root),
    );
    assert.equal(store.blockCount, 1);
  });

  it("rejects a bad block signature unless verification is skipped", () => {
    const store = newStore(g);
    const forged: SignedBlock = { block: F.b1.signed.block, signature: F.a2.signed.signature };
    throwsCode(() => store.onBlock(forged), "INVALID_BLOCK_SIGNATURE");
    assert.equal(store.blockCount, 1);
    assert.equal(store.onBlock(forged, { verifySignatures: false }).alreadyKnown, false);
  });

  it("rejects a block at or below the finalized slot", () => {
    const store = newStore(g);
    const atZero: SignedBlock = { block: { ...F.b1.signed.block, slot: 0 }, signature: F.b1.signed.signature };
    throwsCode(() => store.onBlock(atZero), "PRE_FINALIZED_SLOT");
  });

  it("rejects a wrong state root through the transition", () => {
    const store = newStore(g);
    const bad: SignedBlock = {
      block: { ...F.b1.signed.block, stateRoot: new Uint8Array(32).fill(7) },
      signature: F.b1.signed.signature,
    };
    throwsCode(() => store.onBlock(bad, { verifySignatures: false }), "STATE_ROOT_MISMATCH");
    assert.equal(store.blockCount, 1);
  });
});

describe("ForkChoiceStore: votes, head and reorgs", () => {
  it("weight decides between forks and a switch reports the reorg depth", () => {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2, F.c3]);

    voteFor(store, F.c3, [0]);
    store.acceptNewAttestations();
    sameRoot(store.head.root, F.c3.root);

    voteFor(store, F.a2, [1, 2]);
    const update = store.acceptNewAttestations();
    sameRoot(store.head.root, F.a2.root);
    assert.equal(update.changed, true);
    sameRoot(update.oldHead.root, F.c3.root);
    assert.ok(update.reorg);
    assert.equal(update.reorg.depth, 2); // c3 (slot 3) back to b1 (slot 1)
    sameRoot(update.reorg.commonAncestor.root, F.b1.root);
    assert.equal(update.reorg.commonAncestor.slot, 1);

    // Extending the head is a change but not a reorg.
    const ext = store.onBlock(F.a4.signed).headUpdate;
    assert.equal(ext.changed, true);
    assert.equal(ext.reorg, null);
    sameRoot(store.head.root, F.a4.root);
  });

  it("new votes do not count until accepted", () => {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2, F.c3]);
    const loser = toHex(store.head.root) === toHex(F.a2.root) ? F.c3 : F.a2;
    voteFor(store, loser, [0, 1]);
    assert.equal(store.newVoteCount, 2);
    assert.equal(store.knownVoteCount, 0);
    assert.notEqual(toHex(store.head.root), toHex(loser.root));
    store.updateHead();
    assert.notEqual(toHex(store.head.root), toHex(loser.root));
    store.acceptNewAttestations();
    assert.equal(store.newVoteCount, 0);
    assert.equal(store.knownVoteCount, 2);
    sameRoot(store.head.root, loser.root);
  });

  it("keeps only a validator's newest vote and ignores unknown validators", () => {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2, F.c3]);
    voteFor(store, F.c3, [0], 5);
    voteFor(store, F.a2, [0], 4); // older: ignored
    assert.equal(store.onAttestation(attData(9, F.a2.checkpoint, F.a2.checkpoint, g.checkpoint), [4, 99, -1]), 0);
    store.acceptNewAttestations();
    sameRoot(store.getKnownVote(0)!.head.root, F.c3.root);
    sameRoot(store.head.root, F.c3.root);
    assert.equal(store.knownVoteCount, 1);
  });

  it("votes carried by an imported block count at once", () => {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2, F.c3]);
    const agg = aggregate(g, [0, 1, 2], attData(2, F.a2.checkpoint, F.b1.checkpoint, g.checkpoint));
    const c5 = buildBlock(g, F.c3, 5, [agg]);
    store.onBlock(c5.signed);
    assert.equal(store.knownVoteCount, 3);
    assert.equal(store.newVoteCount, 0);
    // Three counted votes for a2 outweigh the unvoted c-branch even though c5 was just imported.
    sameRoot(store.head.root, F.a2.root);
  });
});

describe("ForkChoiceStore: time", () => {
  it("runs each interval's duty once, in order", () => {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2, F.c3]);
    const loser = toHex(store.head.root) === toHex(F.a2.root) ? F.c3 : F.a2;
    const winner = loser === F.a2 ? F.c3 : F.a2;

    voteFor(store, loser, [0]);
    store.onTick(3, false); // interval 3: safe target only
    assert.equal(store.newVoteCount, 1);
    sameRoot(store.safeTarget.root, g.root); // 1 of 4 is below 2/3
    const changes = store.onTick(4, false); // interval 4: accept
    assert.equal(store.newVoteCount, 0);
    sameRoot(store.head.root, loser.root);
    assert.equal(changes.length, 1);

    voteFor(store, winner, [1, 2]);
    assert.deepEqual(store.onTick(4, false), []); // already ran
    assert.deepEqual(store.onTick(2, false), []); // never backwards
    assert.equal(store.newVoteCount, 2);
    assert.equal(store.time, 4);

    store.onTick(5, false); // interval 0 without a proposal: nothing
    assert.equal(store.newVoteCount, 2);
    store.onTick(9, false); // catches up 6, 7, 8 (safe target), 9 (accept)
    assert.equal(store.newVoteCount, 0);
    sameRoot(store.head.root, winner.root);

    voteFor(store, F.b1, [3], 9);
    store.onTick(10, true); // interval 0 of slot 2 with a proposal: accept first
    assert.equal(store.newVoteCount, 0);
    assert.equal(store.time, 10);
    assert.equal(store.currentSlot, 2);
  });

  it("safe target needs 2/3 of the new votes", () => {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2, F.c3]);
    voteFor(store, F.a2, [0, 1]);
    sameRoot(store.updateSafeTarget().root, g.root);
    voteFor(store, F.a2, [2]);
    sameRoot(store.updateSafeTarget().root, F.a2.root);
    // Counted votes do not feed the safe target.
    store.acceptNewAttestations();
    sameRoot(store.updateSafeTarget().root, g.root);
  });
});

describe("ForkChoiceStore: attestation production", () => {
  const chain = buildChain(g, genesisParent(g), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  it("at genesis votes genesis for everything", () => {
    const store = newStore(g);
    const d = store.produceAttestationData(0);
    assert.deepEqual(d, { slot: 0, head: g.checkpoint, target: g.checkpoint, source: g.checkpoint });
  });

  it("walks back the lookback, then to a justifiable slot", () => {
    const store = newStore(g);
    importAll(store, chain);
    // 10 -> 9 -> 8 -> 7 (three steps); 7 is not justifiable after 0, 6 is (pronic).
    assert.equal(store.getAttestationTarget().slot, 6);
    sameRoot(store.getAttestationTarget().root, chain[5]!.root);
    // Every slot up to 5 is justifiable, so only the lookback bound decides: 5 -> 2.
    const short = newStore(g);
    importAll(short, chain.slice(0, 5));
    assert.equal(short.getAttestationTarget().slot, 2);
  });

  it("stops at the safe target", () => {
    const store = newStore(g);
    importAll(store, chain);
    voteFor(store, chain[8]!, [0, 1, 2]); // slot 9
    sameRoot(store.updateSafeTarget().root, chain[8]!.root);
    const d = store.produceAttestationData(10);
    assert.equal(d.target.slot, 9);
    sameRoot(d.head.root, chain[9]!.root);
    assert.deepEqual(d.source, g.checkpoint);
    // The store validates what it produces.
    store.onTick(50, false);
    store.validateAttestationData(d);
  });
});

describe("ForkChoiceStore: attestation target when an orphaned fork finalized further", () => {
  // G ─ b1 ─ b2(J1,F0) ─ a3(J2,F1)                 fork A: finalizes b1, then loses
  //               └──── c3 ─ c4 ─ … ─ c13 (J1,F0)   fork B: the head, its state still finalized at 0
  // The store keeps finalized = b1 (slot 1) while the head's chain judges justifiability after 0.
  // Slot 10 is justifiable after 1 (delta 9) but not after 0, and so on: a target chosen by the
  // store's finalized slot is a vote no block on the head can count (the crash test's stall).
  function scenario() {
    const store = newStore(g);
    const b1 = buildBlock(g, genesisParent(g), 1);
    const b2 = buildBlock(g, b1, 2, [aggregate(g, [0, 1, 2], attData(1, b1.checkpoint, b1.checkpoint, g.checkpoint))]);
    const a3 = buildBlock(g, b2, 3, [aggregate(g, [0, 1, 2], attData(2, b2.checkpoint, b2.checkpoint, b1.checkpoint))]);
    const forkB = buildChain(g, b2, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const c13 = forkB[forkB.length - 1] as BuiltBlock;
    // a3 is the head when it arrives: b1 is finalized and genesis pruned, so the store cannot step
    // its finalized checkpoint back to the genesis block when fork B takes the head.
    importAll(store, [b1, b2, a3]);
    assert.equal(store.latestFinalized.slot, 1);
    importAll(store, forkB);
    // Fork B wins the vote; the accepted votes make it the head.
    store.onAttestation(attData(13, c13.checkpoint, b2.checkpoint, b1.checkpoint), [0, 1, 2, 3]);
    store.onTick(13 * 5 + 4, false);
    return { store, a3, c13 };
  }

  it("the store is finalized further than the head's chain", () => {
    const { store, a3, c13 } = scenario();
    sameRoot(store.head.root, c13.root);
    assert.equal(store.latestFinalized.slot, 1, "a3's finalization of b1 is kept");
    assert.equal(store.getHeadState().latestFinalized.slot, 0);
    assert.ok(store.hasBlock(a3.root));
  });

  it("votes a target the head's chain can justify, and a block on the head counts it", () => {
    const { store } = scenario();
    const data = store.produceAttestationData(14);
    assert.ok(
      isJustifiableAfter(data.target.slot, store.getHeadState().latestFinalized.slot),
      `target ${data.target.slot} is not justifiable after the head chain's finalized slot 0`,
    );
    assert.ok(
      data.target.slot > data.source.slot,
      `target ${data.target.slot} must be after source ${data.source.slot}`,
    );
    store.addAggregateToPool(aggregate(g, [0, 1, 2, 3], data));
    const built = buildUnsignedBlock(store, 14, 14 % g.n);
    assert.equal(built.block.body.attestations.length, 1, "the block on the head includes the vote");
    const post = transitionWithoutStateRootCheck(store.getHeadState(), built.block);
    assert.equal(post.latestJustified.slot, data.target.slot, "and the vote justifies its target");
  });
});

describe("ForkChoiceStore: gossip attestations", () => {
  function storeAtSlot2() {
    const store = newStore(g);
    importAll(store, [F.b1, F.a2]);
    store.onTick(11, false);
    return store;
  }
  const d = attData(2, F.a2.checkpoint, F.a2.checkpoint, g.checkpoint);

  it("records a valid single attestation as new", () => {
    const store = storeAtSlot2();
    store.processGossipAttestation(signAttestation(g.keys[3]!, 3, d, g.domains));
    assert.equal(store.newVoteCount, 1);
    sameRoot(store.getNewVote(3)!.head.root, F.a2.root);
  });

  it("rejects a bad signature or an early vote and records nothing", () => {
    const store = storeAtSlot2();
    const att = signAttestation(g.keys[3]!, 3, d, g.domains);
    throwsCode(() => store.processGossipAttestation({ ...att, validatorIndex: 2 }), "INVALID_SIGNATURE");
    const early = { ...d, slot: 4 };
    throwsCode(() => store.processGossipAttestation(signAttestation(g.keys[3]!, 3, early, g.domains)), "FUTURE_SLOT");
    throwsCode(
      () =>
        store.processGossipAttestation(
          signAttestation(g.keys[3]!, 3, { ...d, head: F.c3.checkpoint, target: F.c3.checkpoint }, g.domains),
        ),
      "UNKNOWN_TARGET_BLOCK",
    );
    assert.equal(store.newVoteCount, 0);
  });

  it("records an aggregate's participants and pools it", () => {
    const store = storeAtSlot2();
    store.processGossipAggregate(aggregate(g, [0, 2], d));
    assert.equal(store.newVoteCount, 2);
    assert.equal(store.aggregatePool.size, 1);
    const forged = { ...aggregate(g, [0, 2], d), aggregationBits: aggregate(g, [0, 1, 2], d).aggregationBits };
    throwsCode(() => store.processGossipAggregate(forged), "INVALID_SIGNATURE");
    assert.equal(store.newVoteCount, 2);
  });
});

describe("ForkChoiceStore: finality and bounded memory", () => {
  it("justifies and finalizes through block votes, then prunes everything off the finalized chain", () => {
    const store = newStore(g);
    const b1 = buildBlock(g, genesisParent(g), 1);
    const s2 = buildBlock(g, genesisParent(g), 2); // side branch from genesis
    const j1 = aggregate(g, [0, 1, 2], attData(1, b1.checkpoint, b1.checkpoint, g.checkpoint));
    const b2 = buildBlock(g, b1, 2, [j1]);
    const j2 = aggregate(g, [0, 1, 2], attData(2, b2.checkpoint, b2.checkpoint, b1.checkpoint));
    const b3 = buildBlock(g, b2, 3, [j2]);

    importAll(store, [b1, s2]);
    voteFor(store, s2, [3]);
    store.addAggregateToPool(aggregate(g, [3], attData(2, s2.checkpoint, s2.checkpoint, g.checkpoint)));
    assert.equal(store.aggregatePool.size, 1);

    const r2 = store.onBlock(b2.signed);
    assert.equal(r2.finalizedAdvanced, false);
    assert.deepEqual(store.latestJustified, b1.checkpoint);
    assert.equal(store.blockCount, 4);

    const r3 = store.onBlock(b3.signed);
    assert.equal(r3.finalizedAdvanced, true);
    assert.deepEqual(store.latestJustified, b2.checkpoint);
    assert.deepEqual(store.latestFinalized, b1.checkpoint);
    sameRoot(store.head.root, b3.root);

    // Pruned: genesis and the side branch; kept: finalized b1 and its descendants.
    assert.equal(store.blockCount, 3);
    assert.equal(store.hasBlock(s2.root), false);
    assert.equal(store.hasBlock(g.root), false);
    assert.equal(store.getState(s2.root), undefined);
    assert.ok(store.hasBlock(b1.root) && store.getState(b1.root));
    assert.equal(store.stateCount, 3);
    assert.equal(store.getNewVote(3), undefined);
    assert.equal(store.aggregatePool.size, 0);
    assert.equal(store.knownVoteCount, 3);

    // Blocks at or below finality are refused outright; the dead branch cannot be extended.
    const selfVote = aggregate(g, [0], attData(0, g.checkpoint, g.checkpoint, g.checkpoint));
    const rival1 = buildBlock(g, genesisParent(g), 1, [selfVote]); // differs from b1 by its body
    throwsCode(() => store.onBlock(rival1.signed), "PRE_FINALIZED_SLOT");
    throwsCode(() => store.onBlock(buildBlock(g, s2, 4).signed), "UNKNOWN_PARENT_BLOCK");
    // The chain keeps growing on the finalized branch.
    store.onBlock(buildBlock(g, b3, 4).signed);
    assert.equal(store.blockCount, 4);
  });

  it("keeps the justified checkpoint on a slot tie (strictly higher only)", () => {
    const store = newStore(g);
    const x1 = buildBlock(g, genesisParent(g), 1);
    const selfVote = aggregate(g, [3], attData(0, g.checkpoint, g.checkpoint, g.checkpoint));
    const a2 = buildBlock(g, x1, 2);
    const c2 = buildBlock(g, x1, 2, [selfVote]);
    const justifyA = aggregate(g, [0, 1, 2], attData(2, a2.checkpoint, a2.checkpoint, g.checkpoint));
    const justifyC = aggregate(g, [0, 1, 2], attData(2, c2.checkpoint, c2.checkpoint, g.checkpoint));
    const a3 = buildBlock(g, a2, 3, [justifyA]);
    const c3 = buildBlock(g, c2, 3, [justifyC]);
    importAll(store, [x1, a2, c2, a3]);
    assert.deepEqual(store.latestJustified, a2.checkpoint);
    const res = store.onBlock(c3.signed);
    assert.deepEqual(res.postState.latestJustified, c2.checkpoint);
    assert.deepEqual(store.latestJustified, a2.checkpoint);
  });

  it("caps states and rebuilds an evicted one by replay", () => {
    const store = newStore(g, { maxStates: 4 });
    const chain = buildChain(g, genesisParent(g), [1, 2, 3, 4, 5, 6, 7, 8]);
    importAll(store, chain);
    assert.equal(store.blockCount, 9);
    assert.ok(store.stateCount <= 4, `stateCount ${store.stateCount}`);
    const rebuilt = store.getState(chain[1]!.root);
    assert.ok(rebuilt);
    sameRoot(State.hashTreeRoot(rebuilt), chain[1]!.signed.block.stateRoot);
    assert.ok(store.stateCount <= 4);
    // A fork off an evicted state still imports.
    const fork = buildBlock(g, chain[2]!, 9);
    assert.equal(store.onBlock(fork.signed).alreadyKnown, false);
    assert.ok(store.stateCount <= 4);
  });

  it("caps blocks: evicts an off-chain leaf first, then refuses with STORE_FULL", () => {
    const store = newStore(g, { maxBlocks: 4 });
    const b1 = buildBlock(g, genesisParent(g), 1);
    const b2 = buildBlock(g, b1, 2);
    const s2 = buildBlock(g, genesisParent(g), 2);
    importAll(store, [b1, b2]);
    voteFor(store, b2, [0, 1]);
    store.acceptNewAttestations();
    store.onBlock(s2.signed);
    sameRoot(store.head.root, b2.root);
    assert.equal(store.blockCount, 4);

    const b3 = buildBlock(g, b2, 3);
    store.onBlock(b3.signed);
    assert.equal(store.blockCount, 4);
    assert.equal(store.hasBlock(s2.root), false);
    assert.equal(store.hasBlock(b3.root), true);

    throwsCode(() => store.onBlock(buildBlock(g, b3, 4).signed), "STORE_FULL");
    assert.equal(store.blockCount, 4);
    assert.equal(store.blockCount, [g.root, b1.root, b2.root, b3.root].filter((r) => store.hasBlock(r)).length);
    assert.equal(rootKey(store.head.root), rootKey(b3.root));
  });
});

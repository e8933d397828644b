import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  attestationDataKey,
  ChainError,
  type ForkChoiceStore,
  isProposer,
  produceBlock,
  type SignedAggregatedAttestation,
  type SignedBlock,
  State,
  type StateTransitionTiming,
  toHex,
} from "../../src/index.ts";
import {
  aggregate,
  attData,
  type BuiltBlock,
  buildBlock,
  genesisParent,
  makeGenesis,
  newStore,
} from "../forkChoice/helpers.ts";

const g = makeGenesis(4);
const b1 = buildBlock(g, genesisParent(g), 1);
const b2 = buildBlock(g, b1, 2);
const c2 = buildBlock(g, genesisParent(g), 2); // a fork beside b1
// j1 justifies b1 from genesis; j2 justifies b2 from b1 (usable only once b1 is justified).
const j1 = aggregate(g, [0, 1, 2], attData(2, b2.checkpoint, b1.checkpoint, g.checkpoint));
const j2 = aggregate(g, [0, 1, 2], attData(2, b2.checkpoint, b2.checkpoint, b1.checkpoint));

function storeWith(blocks: BuiltBlock[], pool: SignedAggregatedAttestation[]): ForkChoiceStore {
  const store = newStore(g);
  for (const b of blocks) store.onBlock(b.signed);
  for (const a of pool) store.addAggregateToPool(a);
  return store;
}

/** Import `produced` into a fresh store that has seen `blocks`, with full signature checks. */
function importElsewhere(blocks: BuiltBlock[], produced: SignedBlock) {
  const other = newStore(g);
  for (const b of blocks) other.onBlock(b.signed);
  const res = other.onBlock(produced);
  return { other, res };
}

describe("produceBlock", () => {
  it("reports the aggregate selection, and an observing store reports each transition's phases", () => {
    const store = storeWith([b1, b2], [j1]);
    const selected: [number, number][] = [];
    const signed = produceBlock(store, 3, 3, g.keys[3]!, {
      onAttestationsSelected: (ms, count) => selected.push([ms, count]),
    });
    assert.equal(selected.length, 1);
    assert.equal(selected[0]?.[1], 1, "one aggregate chosen");
    assert.ok((selected[0]?.[0] ?? -1) >= 0);

    const timings: StateTransitionTiming[] = [];
    const observed = newStore(g, { onStateTransition: (t) => timings.push(t) });
    for (const b of [b1, b2, c2]) observed.onBlock(b.signed);
    const res = observed.onBlock(signed);
    assert.deepEqual(
      timings.map((t) => [t.slots, t.attestations, t.votes]),
      [
        [1, 0, 0],
        [1, 0, 0],
        [2, 0, 0],
        [1, 1, 3],
      ],
      "slots advanced, attestations processed and votes carried (j1: validators 0, 1, 2) per import",
    );
    for (const t of timings) {
      assert.ok(t.slotsMs >= 0 && t.attestationsMs >= 0 && t.blockMs >= t.attestationsMs, JSON.stringify(t));
      assert.ok(t.totalMs >= t.slotsMs + t.blockMs, JSON.stringify(t));
    }
    // Observing changes nothing: the same post-state as an unobserved import.
    const plain = importElsewhere([b1, b2], signed).res;
    assert.equal(toHex(State.hashTreeRoot(res.postState)), toHex(State.hashTreeRoot(plain.postState)));
  });

  it("builds on the head, and the block imports into another store", () => {
    const store = storeWith([b1, b2], [j1]);
    const signed = produceBlock(store, 3, 3, g.keys[3]!);
    assert.equal(signed.block.slot, 3);
    assert.equal(toHex(signed.block.parentRoot), toHex(b2.root));
    assert.equal(signed.block.body.attestations.length, 1);
    assert.equal(store.time, 15);
    const { other, res } = importElsewhere([b1, b2], signed);
    assert.equal(res.alreadyKnown, false);
    assert.deepEqual(other.latestJustified, b1.checkpoint);
    assert.equal(toHex(other.head.root), toHex(res.root));
  });

  it("iterates to a fixed point: votes from a newly justified source join the same block", () => {
    const store = storeWith([b1, b2], [j2, j1]);
    const signed = produceBlock(store, 3, 3, g.keys[3]!);
    const targets = signed.block.body.attestations.map((a) => a.data.target.slot).sort();
    assert.deepEqual(targets, [1, 2]);
    const { other, res } = importElsewhere([b1, b2], signed);
    assert.equal(res.postState.latestJustified.slot, 2);
    assert.equal(res.postState.latestFinalized.slot, 1);
    assert.deepEqual(other.latestFinalized, b1.checkpoint);
  });

  it("never exceeds MAX_ATTESTATIONS_DATA nor repeats data, even with 12 candidates", () => {
    const pool: SignedAggregatedAttestation[] = [];
    for (let slot = 2; slot < 14; slot++) {
      // Single-participant votes never justify, so every candidate stays eligible.
      pool.push(aggregate(g, [slot % 4], attData(slot, b2.checkpoint, b1.checkpoint, g.checkpoint)));
    }
    pool.push(aggregate(g, [3], attData(2, b2.checkpoint, b1.checkpoint, g.checkpoint))); // same data as the first
    const store = storeWith([b1, b2], pool);
    assert.equal(store.aggregatePool.size, 12);
    const signed = produceBlock(store, 3, 3, g.keys[3]!);
    const keys = signed.block.body.attestations.map((a) => attestationDataKey(a.data));
    assert.equal(keys.length, 8);
    assert.equal(new Set(keys).size, 8);
    importElsewhere([b1, b2], signed);
  });

  it("leaves out votes for another chain or an unjustified source", () => {
    const onFork = aggregate(g, [0, 1, 2], attData(2, c2.checkpoint, c2.checkpoint, g.checkpoint));
    const store = storeWith([b1, b2, c2], [onFork, j2]);
    // Make sure b2 is the head so the fork vote is off-chain for the new block.
    store.onAttestation(j2.data, [3]);
    store.acceptNewAttestations();
    assert.equal(toHex(store.head.root), toHex(b2.root));
    const signed = produceBlock(store, 3, 3, g.keys[3]!);
    assert.equal(signed.block.body.attestations.length, 0);
    importElsewhere([b1, b2, c2], signed);
  });

  it("refuses a validator that does not propose the slot", () => {
    const store = storeWith([b1], []);
    assert.throws(
      () => produceBlock(store, 2, 3, g.keys[3]!),
      (e: unknown) => e instanceof ChainError && e.code === "WRONG_PROPOSER",
    );
  });

  it("isProposer is round robin", () => {
    assert.equal(isProposer(5, 1, 4), true);
    assert.equal(isProposer(5, 2, 4), false);
    assert.equal(isProposer(5, 0, 0), false);
  });
});

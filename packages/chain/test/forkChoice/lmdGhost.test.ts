import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  computeBlockWeights,
  computeLmdGhostHead,
  type GhostNode,
  type VoteHead,
} from "../../src/forkChoice/lmdGhost.ts";
import { type RootHex, rootKey } from "../../src/index.ts";

// Roots whose first byte is chosen by the test, so the tie-break order is explicit.
function root(firstByte: number, salt = 0): Uint8Array {
  const r = new Uint8Array(32);
  r[0] = firstByte;
  r[31] = salt;
  return r;
}

class Tree {
  readonly nodes = new Map<RootHex, GhostNode>();
  add(name: Uint8Array, slot: number, parent: Uint8Array | null): RootHex {
    const key = rootKey(name);
    this.nodes.set(key, {
      root: name,
      slot,
      parentKey: parent === null ? rootKey(new Uint8Array(32)) : rootKey(parent),
    });
    return key;
  }
}

function votesFor(key: RootHex, slot: number, count: number): VoteHead[] {
  return Array.from({ length: count }, () => ({ key, slot }));
}

// G(0) ─ A(1) ─ B(2)
//    └── C(1) ─ D(2)
function forkedTree(rootsAB: [number, number], rootsCD: [number, number]) {
  const t = new Tree();
  const G = root(0x01);
  const A = root(rootsAB[0], 1);
  const B = root(rootsAB[1], 2);
  const C = root(rootsCD[0], 3);
  const D = root(rootsCD[1], 4);
  const g = t.add(G, 0, null);
  const a = t.add(A, 1, G);
  const b = t.add(B, 2, A);
  const c = t.add(C, 1, G);
  const d = t.add(D, 2, C);
  return { t, g, a, b, c, d };
}

describe("LMD-GHOST", () => {
  it("follows the heavier fork even when the other has the larger roots", () => {
    const { t, g, b, d } = forkedTree([0xf0, 0xf1], [0x10, 0x11]);
    const votes = [...votesFor(d, 2, 2), ...votesFor(b, 2, 1)];
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes, finalizedSlot: 0 }), d);
    const flipped = [...votesFor(d, 2, 1), ...votesFor(b, 2, 2)];
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes: flipped, finalizedSlot: 0 }), b);
  });

  it("breaks equal weight toward the larger root", () => {
    const votes = (x: ReturnType<typeof forkedTree>) => [...votesFor(x.b, 2, 1), ...votesFor(x.d, 2, 1)];
    const abLarger = forkedTree([0xf0, 0xf1], [0x10, 0x11]);
    assert.equal(
      computeLmdGhostHead({ nodes: abLarger.t.nodes, startKey: abLarger.g, votes: votes(abLarger), finalizedSlot: 0 }),
      abLarger.b,
    );
    const cdLarger = forkedTree([0x10, 0x11], [0xf0, 0xf1]);
    assert.equal(
      computeLmdGhostHead({ nodes: cdLarger.t.nodes, startKey: cdLarger.g, votes: votes(cdLarger), finalizedSlot: 0 }),
      cdLarger.d,
    );
  });

  it("with no votes descends by root order alone", () => {
    const { t, g, b } = forkedTree([0xf0, 0x11], [0x10, 0xf1]);
    // A (0xf0) beats C (0x10) at the first fork although D has the largest root overall.
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes: [], finalizedSlot: 0 }), b);
  });

  it("ignores votes whose head is at or below the finalized slot", () => {
    const { t, g, b, c, d } = forkedTree([0x10, 0x11], [0xf0, 0xf1]);
    // Three votes on C (slot 1) would win; with finality at slot 1 they count for nothing.
    const votes = [...votesFor(c, 1, 3), ...votesFor(b, 2, 1)];
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes, finalizedSlot: 1 }), b);
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes, finalizedSlot: 0 }), d);
  });

  it("starts from the justified root, never looking at branches beside it", () => {
    const { t, c, b, d } = forkedTree([0xf0, 0xf1], [0x10, 0x11]);
    const votes = votesFor(b, 2, 5);
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: c, votes, finalizedSlot: 0 }), d);
  });

  it("credits ancestors only above the start slot and skips unknown heads", () => {
    const { t, a, b, d } = forkedTree([0xf0, 0xf1], [0x10, 0x11]);
    const unknown = rootKey(root(0x99));
    const weights = computeBlockWeights(t.nodes, [...votesFor(b, 2, 2), ...votesFor(unknown, 2, 4)], 0, 0);
    assert.equal(weights.get(b), 2);
    assert.equal(weights.get(a), 2);
    assert.equal(weights.get(d), undefined);
    const fromSlot1 = computeBlockWeights(t.nodes, votesFor(b, 2, 2), 1, 0);
    assert.equal(fromSlot1.get(a), undefined);
    assert.equal(fromSlot1.get(b), 2);
  });

  it("with a threshold stops above children that lack it (safe target)", () => {
    const { t, g, a, b, d } = forkedTree([0xf0, 0xf1], [0x10, 0x11]);
    // 4 validators, threshold 3: A has 3 (two on B, one on A), B only 2.
    const votes = [...votesFor(b, 2, 2), ...votesFor(a, 1, 1), ...votesFor(d, 2, 1)];
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes, finalizedSlot: 0, minScore: 3 }), a);
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes, finalizedSlot: 0, minScore: 4 }), g);
    assert.equal(computeLmdGhostHead({ nodes: t.nodes, startKey: g, votes, finalizedSlot: 0, minScore: 2 }), b);
  });

  it("throws when the start root is missing", () => {
    const { t } = forkedTree([1, 2], [3, 4]);
    assert.throws(() => computeLmdGhostHead({ nodes: t.nodes, startKey: "0xdead", votes: [], finalizedSlot: 0 }));
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Block, SignedBlock, type SignedBlock as SignedBlockValue } from "@metronome/chain";
import { OrphanBlocks } from "../../src/sync/orphanBlocks.ts";

function block(slot: number, parentRoot: Uint8Array): SignedBlockValue {
  const b = SignedBlock.defaultValue();
  b.block.slot = slot;
  b.block.parentRoot = parentRoot;
  return b;
}
const rootOf = (b: SignedBlockValue) => Block.hashTreeRoot(b.block);

describe("OrphanBlocks", () => {
  it("releases children of an imported parent lowest slot first and reports missing parents", () => {
    const cache = new OrphanBlocks();
    const parent = new Uint8Array(32).fill(1);
    const a = block(5, parent);
    const b = block(3, parent);
    const grandchild = block(6, rootOf(a));
    cache.add(a, "p1");
    cache.add(b, null);
    cache.add(grandchild, null);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      cache.missingParents(() => false).map((r) => r[0]),
      [1, 1],
      "the grandchild's parent is cached, so only the outside parent is missing",
    );
    const released = cache.takeChildren(parent);
    assert.deepEqual(
      released.map((e) => e.block.block.slot),
      [3, 5],
    );
    assert.equal(cache.size, 1);
    assert.deepEqual(
      cache.takeChildren(rootOf(a)).map((e) => e.block.block.slot),
      [6],
    );
    assert.equal(cache.size, 0);
  });

  it("is bounded: the oldest block is evicted and counted", () => {
    const cache = new OrphanBlocks(2);
    const p = new Uint8Array(32);
    const first = block(1, p);
    cache.add(first, null);
    cache.add(block(2, p), null);
    cache.add(block(3, p), null);
    assert.equal(cache.size, 2);
    assert.equal(cache.evicted, 1);
    assert.equal(cache.has(rootOf(first)), false);
  });

  it("drops blocks at or below finality", () => {
    const cache = new OrphanBlocks();
    const p = new Uint8Array(32);
    cache.add(block(4, p), null);
    cache.add(block(9, p), null);
    assert.equal(cache.pruneFinalized(4), 1);
    assert.equal(cache.size, 1);
  });
});

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

  it("is capped in bytes: the oldest blocks are evicted and counted, an oversized one refused", () => {
    const one = SignedBlock.value_serializedSize(block(1, new Uint8Array(32)));
    const cache = new OrphanBlocks(1024, 3 * one);
    const parent = new Uint8Array(32).fill(7);
    for (let slot = 1; slot <= 5; slot++) assert.ok(cache.add(block(slot, parent), null) !== null);
    assert.equal(cache.size, 3);
    assert.equal(cache.bytes, 3 * one);
    assert.equal(cache.evicted, 2);
    assert.equal(cache.evictedForBytes, 2);
    assert.deepEqual(
      cache.takeChildren(parent).map((e) => e.block.block.slot),
      [3, 4, 5],
      "the oldest went first",
    );
    assert.equal(cache.bytes, 0);
    const tiny = new OrphanBlocks(1024, one - 1);
    assert.equal(tiny.add(block(1, parent), null), null);
    assert.equal(tiny.refusedTooLarge, 1);
    assert.equal(tiny.size, 0);
  });

  it("reports what it holds and each cap's drops apart, for the metrics", () => {
    const one = SignedBlock.value_serializedSize(block(1, new Uint8Array(32)));
    const cache = new OrphanBlocks(3, 2 * one);
    const parent = new Uint8Array(32).fill(9);
    for (let slot = 1; slot <= 4; slot++) cache.add(block(slot, parent), null);
    assert.deepEqual(cache.stats(), {
      blocks: 2,
      bytes: 2 * one,
      evictedForCount: 0,
      evictedForBytes: 2,
      refusedTooLarge: 0,
    });
    const byCount = new OrphanBlocks(2, 100 * one);
    for (let slot = 1; slot <= 5; slot++) byCount.add(block(slot, parent), null);
    assert.deepEqual(byCount.stats(), {
      blocks: 2,
      bytes: 2 * one,
      evictedForCount: 3,
      evictedForBytes: 0,
      refusedTooLarge: 0,
    });
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { RejectionCode } from "../../src/errors.ts";
import { dropLeadingBits, extendBits, withBitSet } from "../../src/stateTransition/bits.ts";
import {
  extendJustifiedSlots,
  integerSqrt,
  isJustifiableAfter,
  isSlotJustified,
  justifiedIndexAfter,
  proposerIndexForSlot,
} from "../../src/stateTransition/index.ts";
import { isCode } from "./helpers.ts";

/** Reference rule with BigInt arithmetic, straight from the spec's definition. */
function referenceJustifiable(delta: bigint): boolean {
  if (delta <= 5n) return true;
  const isqrt = (n: bigint): bigint => {
    let x = n;
    let y = (x + 1n) / 2n;
    while (y < x) {
      x = y;
      y = (x + n / x) / 2n;
    }
    return x;
  };
  const r = isqrt(delta);
  if (r * r === delta) return true;
  const d = 4n * delta + 1n;
  const s = isqrt(d);
  return s * s === d && s % 2n === 1n;
}

describe("isJustifiableAfter", () => {
  it("follows the 3SF-mini table", () => {
    const table: [number, boolean][] = [
      [0, true],
      [1, true],
      [2, true],
      [3, true],
      [4, true],
      [5, true],
      [6, true],
      [7, false],
      [8, false],
      [9, true],
      [10, false],
      [11, false],
      [12, true],
      [13, false],
      [16, true],
      [20, true],
      [25, true],
      [30, true],
      [31, false],
      [42, true],
      [1_000_001, false],
    ];
    for (const [delta, expected] of table) {
      assert.equal(isJustifiableAfter(delta, 0), expected, `delta ${delta} from 0`);
      assert.equal(isJustifiableAfter(1000 + delta, 1000), expected, `delta ${delta} from 1000`);
    }
  });

  it("agrees with an exact BigInt reference for small and huge distances", () => {
    for (let delta = 0; delta < 3000; delta++) {
      assert.equal(isJustifiableAfter(delta, 0), referenceJustifiable(BigInt(delta)), `delta ${delta}`);
    }
    // k^2 and k(k+1) just below 2^53, where a float sqrt alone is off by one.
    const k = 94_906_265;
    const around = [k * k, k * k - 1, k * k + 1, k * (k + 1), k * (k + 1) - 1, k * (k + 1) + 1];
    for (const delta of around) {
      if (!Number.isSafeInteger(delta)) continue;
      assert.equal(isJustifiableAfter(delta, 0), referenceJustifiable(BigInt(delta)), `delta ${delta}`);
    }
    assert.equal(isJustifiableAfter(k * k, 0), true);
    assert.equal(isJustifiableAfter(k * k - 1, 0), false);
    assert.equal(isJustifiableAfter(Number.MAX_SAFE_INTEGER, 0), referenceJustifiable(BigInt(Number.MAX_SAFE_INTEGER)));
  });

  it("never admits slots before finalization or non-integer slots", () => {
    assert.equal(isJustifiableAfter(3, 4), false);
    assert.equal(isJustifiableAfter(Number.POSITIVE_INFINITY, 0), false);
    assert.equal(isJustifiableAfter(2.5, 0), false);
  });

  it("integerSqrt is exact near 2^53", () => {
    const k = 94_906_265;
    assert.equal(integerSqrt(k * k), k);
    assert.equal(integerSqrt(k * k - 1), k - 1);
    assert.equal(integerSqrt(0), 0);
    assert.equal(integerSqrt(15), 3);
  });
});

describe("justified slot indexing", () => {
  it("maps slots to indices one past finalization", () => {
    assert.equal(justifiedIndexAfter(5, 5), null);
    assert.equal(justifiedIndexAfter(3, 5), null);
    assert.equal(justifiedIndexAfter(6, 5), 0);
    assert.equal(justifiedIndexAfter(10, 5), 4);
  });

  it("isSlotJustified reads the bitlist and rejects untracked slots", () => {
    const bits = BitArray.fromBoolArray([false, true, false]); // slots 11, 12, 13 after finalized 10
    assert.equal(isSlotJustified(bits, 10, 9), true);
    assert.equal(isSlotJustified(bits, 10, 10), true);
    assert.equal(isSlotJustified(bits, 10, 11), false);
    assert.equal(isSlotJustified(bits, 10, 12), true);
    assert.equal(isSlotJustified(bits, 10, 13), false);
    assert.throws(() => isSlotJustified(bits, 10, 14), isCode(RejectionCode.JUSTIFIED_SLOT_OUT_OF_RANGE));
    assert.throws(
      () => isSlotJustified(bits, 10, Number.POSITIVE_INFINITY),
      isCode(RejectionCode.JUSTIFIED_SLOT_OUT_OF_RANGE),
    );
  });

  it("extendJustifiedSlots grows with false bits and leaves the input alone", () => {
    const bits = BitArray.fromBoolArray([true, false, true]);
    const grown = extendJustifiedSlots(bits, 0, 7);
    assert.deepEqual(grown.toBoolArray(), [true, false, true, false, false, false, false]);
    assert.equal(bits.bitLen, 3);
    assert.equal(extendJustifiedSlots(bits, 0, 2), bits, "already addressable: same instance");
    assert.equal(extendJustifiedSlots(bits, 9, 4), bits, "finalized slot: nothing to track");
  });
});

describe("proposerIndexForSlot", () => {
  it("is round robin and rejects an empty registry", () => {
    assert.equal(proposerIndexForSlot(0, 4), 0);
    assert.equal(proposerIndexForSlot(7, 4), 3);
    assert.equal(proposerIndexForSlot(8, 4), 0);
    assert.throws(() => proposerIndexForSlot(3, 0), isCode(RejectionCode.EMPTY_VALIDATOR_REGISTRY));
  });
});

describe("bit helpers", () => {
  const pattern = (len: number, seed: number) => Array.from({ length: len }, (_, i) => (i * 7 + seed) % 3 === 0);

  it("dropLeadingBits matches slicing a boolean array for every shift", () => {
    for (const len of [0, 1, 7, 8, 9, 16, 17, 40]) {
      const bools = pattern(len, len);
      const bits = BitArray.fromBoolArray(bools);
      for (let count = 0; count <= len + 2; count++) {
        const dropped = dropLeadingBits(bits, count);
        assert.deepEqual(dropped.toBoolArray(), bools.slice(count), `len ${len} drop ${count}`);
        // Padding above bitLen must be clear or hash/serialize would differ.
        assert.ok(BitArray.fromBoolArray(bools.slice(count)).uint8Array.every((b, i) => b === dropped.uint8Array[i]));
      }
      assert.deepEqual(bits.toBoolArray(), bools, "input untouched");
    }
  });

  it("extendBits clears stray padding and withBitSet copies", () => {
    const dirty = new BitArray(Uint8Array.of(0xff), 3);
    assert.deepEqual(extendBits(dirty, 10).toBoolArray(), [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    const bits = BitArray.fromBitLen(4);
    const set = withBitSet(bits, 2);
    assert.equal(set.get(2), true);
    assert.equal(bits.get(2), false);
  });
});

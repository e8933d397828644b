// Reading a uint64 exactly: decimal strings up to 2^64 - 1 become bigints without passing through a
// JS number; the chain's numbers take them only up to 2^53 - 1, and a larger one is refused by name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHAIN_UINT_MAX,
  fitsChain,
  MAX_UINT64_TEXT_CHARS,
  readChainUint,
  readPlainUint,
  readUint64,
  toChainUint,
  UINT64_MAX,
  Uint64Error,
} from "../src/uint64.ts";

const TWO_53_PLUS_1 = "9007199254740993";
const TWO_64_MINUS_1 = "18446744073709551615";

describe("readUint64", () => {
  it("reads 2^53 + 1 and 2^64 - 1 exactly (a JS number would round the first)", () => {
    assert.equal(readUint64(TWO_53_PLUS_1), 2n ** 53n + 1n);
    assert.equal(readUint64(TWO_64_MINUS_1), UINT64_MAX);
    assert.equal(String(readUint64(TWO_53_PLUS_1)), TWO_53_PLUS_1);
    assert.notEqual(String(Number(TWO_53_PLUS_1)), TWO_53_PLUS_1, "the premise: Number() rounds it");
    assert.equal(readUint64("0"), 0n);
    assert.equal(readUint64("007"), 7n);
  });

  it("refuses 2^64, signs, fractions, hex, blanks and JSON numbers", () => {
    assert.throws(() => readUint64("18446744073709551616"), /18446744073709551616 is above 2\^64 - 1/);
    for (const bad of ["-1", "+1", "1.0", "1e3", "0x10", " 1", "1 ", ""]) {
      assert.throws(() => readUint64(bad), Uint64Error, bad);
    }
    assert.throws(() => readUint64(5), /decimal string, not a JSON number/);
    assert.throws(() => readUint64(null), Uint64Error);
    assert.throws(() => readUint64(5n), Uint64Error);
  });

  it("refuses a long digit string before parsing it (no superlinear BigInt work)", () => {
    const long = "9".repeat(1_000_000);
    const started = performance.now();
    assert.throws(() => readUint64(long), /above 2\^64 - 1/);
    // A million-digit BigInt parse takes hundreds of milliseconds; the length check takes none.
    assert.ok(performance.now() - started < 50);
    assert.equal(readUint64(`${"0".repeat(MAX_UINT64_TEXT_CHARS - 1)}1`), 1n);
  });
});

describe("the chain's numbers", () => {
  it("hold up to 2^53 - 1 exactly and refuse more with the limit named, never rounding", () => {
    assert.equal(toChainUint(BigInt(CHAIN_UINT_MAX)), Number.MAX_SAFE_INTEGER);
    assert.equal(readChainUint("9007199254740991"), 9007199254740991);
    assert.equal(fitsChain(2n ** 53n - 1n), true);
    assert.equal(fitsChain(2n ** 53n), false);
    for (const big of [TWO_53_PLUS_1, "9007199254740992", TWO_64_MINUS_1]) {
      assert.throws(
        () => readChainUint(big),
        new RegExp(
          `^Uint64Error: ${big} is above 2\\^53 - 1 \\(9007199254740991\\), the largest value this node's chain holds$`,
        ),
      );
    }
  });

  it("the lean routes' plain numbers: safe non-negative integers only", () => {
    assert.equal(readPlainUint(12), 12);
    for (const bad of [-1, 1.5, 2 ** 53, Number.POSITIVE_INFINITY, "12", null]) {
      assert.throws(() => readPlainUint(bad), Uint64Error, String(bad));
    }
  });
});

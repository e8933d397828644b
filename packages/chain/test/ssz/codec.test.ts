import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BitArray, type Type } from "@chainsafe/ssz";
import {
  ChainError,
  compareBytes,
  decode,
  fromHex,
  RejectionCode,
  SignedAttestation,
  SignedBlock,
  State,
  sszTypes,
  toHex,
  tryDecode,
} from "../../src/index.ts";

/** A pseudo-random but reproducible byte string. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("malformed SSZ never escapes as an exception", () => {
  for (const [name, sszType] of Object.entries(sszTypes)) {
    const type = sszType as unknown as Type<unknown>;
    it(`${name}: truncated, extended, random and empty inputs give DECODE_ERROR`, () => {
      const valid = type.serialize(type.defaultValue());
      const inputs: Uint8Array[] = [
        new Uint8Array(0),
        noise(3, 7),
        noise(97, 11),
        noise(4096, 13),
        new Uint8Array(valid.length + 1),
      ];
      if (valid.length > 0) inputs.push(valid.subarray(0, valid.length - 1));
      let rejected = 0;
      for (const bytes of inputs) {
        const result = tryDecode(type, bytes);
        if (!result.ok) {
          assert.ok(result.error instanceof ChainError);
          assert.equal(result.error.code, RejectionCode.DECODE_ERROR);
          assert.match(result.error.message, new RegExp(type.typeName));
          rejected++;
        }
      }
      // Containers with only variable-size fields may accept some lengths, but most noise must fail.
      assert.ok(rejected >= 3, `${name}: only ${rejected} of ${inputs.length} malformed inputs rejected`);
    });
  }

  it("decode throws a ChainError (not RangeError) for a bad offset", () => {
    const bytes = SignedBlock.serialize(SignedBlock.defaultValue());
    bytes[0] = 0xff; // first offset now points past the end
    assert.throws(
      () => decode(SignedBlock, bytes),
      (e: unknown) => e instanceof ChainError && e.code === RejectionCode.DECODE_ERROR,
    );
  });
});

describe("JSON form", () => {
  it("uses snake_case names, quoted integers and 0x-hex bytes, and round-trips", () => {
    const att = SignedAttestation.defaultValue();
    att.validatorIndex = 7;
    att.data.slot = 12;
    att.data.head.root = new Uint8Array(32).fill(0xab);
    const json = SignedAttestation.toJson(att) as Record<string, unknown>;
    assert.equal(json.validator_index, "7");
    const data = json.data as Record<string, Record<string, string> | string>;
    assert.equal(data.slot, "12");
    assert.equal((data.head as Record<string, string>).root, `0x${"ab".repeat(32)}`);
    assert.equal(typeof json.signature, "string");
    assert.ok(SignedAttestation.equals(SignedAttestation.fromJson(json), att));
  });

  it("State JSON uses the protocol field names", () => {
    const state = State.defaultValue();
    state.justifiedSlots = BitArray.fromBoolArray([true, false, true]);
    const json = State.toJson(state) as Record<string, unknown>;
    for (const key of [
      "config",
      "latest_block_header",
      "latest_justified",
      "latest_finalized",
      "historical_block_hashes",
      "justified_slots",
      "justifications_roots",
      "justifications_validators",
    ]) {
      assert.ok(key in json, `missing ${key}`);
    }
    assert.ok(State.equals(State.fromJson(json), state));
  });

  it("uint64 beyond 2^53 decodes to Infinity so range checks fail closed", () => {
    const bytes = SignedAttestation.serialize(SignedAttestation.defaultValue());
    bytes.fill(0xff, 0, 8);
    const result = tryDecode(SignedAttestation, bytes);
    assert.ok(result.ok);
    assert.equal(result.value.validatorIndex, Number.POSITIVE_INFINITY);
  });
});

describe("byte helpers", () => {
  it("hex round-trips and rejects junk", () => {
    const b = Uint8Array.of(0, 1, 0xfe, 0xff);
    assert.equal(toHex(b), "0x0001feff");
    assert.deepEqual(fromHex("0x0001feff"), b);
    assert.throws(() => fromHex("0x123"));
    assert.throws(() => fromHex("0xzz"));
  });

  it("compareBytes orders lexicographically (the fork-choice tie break)", () => {
    assert.ok(compareBytes(Uint8Array.of(1, 0), Uint8Array.of(0, 255)) > 0);
    assert.ok(compareBytes(Uint8Array.of(0, 1), Uint8Array.of(0, 2)) < 0);
    assert.equal(compareBytes(Uint8Array.of(3), Uint8Array.of(3)), 0);
  });
});

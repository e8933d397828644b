// The SSZ-JSON codec is exact: for every container that carries a uint64, JSON -> exact value ->
// SSZ bytes -> exact value -> JSON gives back the same text for 2^53 + 1 and 2^64 - 1; the exact
// twin's bytes and roots are the chain type's; and the chain's numbers refuse, by field, what they
// cannot hold. Strict decoding names the field of every other fault too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContainerType, ListBasicType, ListCompositeType, type Type, VectorBasicType } from "@chainsafe/ssz";
import { Block, BlocksByRootRequest, SignedAttestation, sszTypes, Uint64 } from "@metronome/chain";
import { ApiError } from "../src/errors.ts";
import { exactType, isChainUint64 } from "../src/exactSsz.ts";
import { parseExactSszJson, parseSszJson } from "../src/sszJson.ts";

const TWO_53_PLUS_1 = "9007199254740993";
const TWO_64_MINUS_1 = "18446744073709551615";
const TWO_53_MINUS_1 = "9007199254740991";

/** Canonical JSON of `type` with every uint64 set to `uint` and one item in every composite list. */
function sampleJson(type: Type<unknown>, uint: string): unknown {
  if (isChainUint64(type)) return uint;
  if (type instanceof ContainerType) {
    return Object.fromEntries(type.fieldsEntries.map((e) => [e.jsonKey, sampleJson(e.fieldType, uint)]));
  }
  if (type instanceof ListCompositeType) return [sampleJson(type.elementType, uint)];
  return type.toJson(type.defaultValue());
}

function littleEndian64(decimal: string): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(decimal));
  return bytes;
}

const carriers = Object.entries(sszTypes).filter(([, type]) =>
  JSON.stringify(sampleJson(type, TWO_53_PLUS_1)).includes(TWO_53_PLUS_1),
) as [string, Type<unknown>][];

describe("exact SSZ-JSON codec", () => {
  it("covers every container that carries a uint64", () => {
    assert.deepEqual(
      carriers.map(([name]) => name),
      Object.keys(sszTypes).filter((name) => name !== "BlocksByRootRequest"),
    );
    assert.equal(exactType(BlocksByRootRequest), BlocksByRootRequest, "no uint64: the type is its own twin");
  });

  for (const [name, type] of carriers) {
    it(`${name}: 2^53 + 1 and 2^64 - 1 round-trip JSON -> SSZ bytes -> JSON unchanged`, () => {
      const twin = exactType(type);
      for (const uint of [TWO_53_PLUS_1, TWO_64_MINUS_1]) {
        const json = sampleJson(type, uint);
        const bytes = twin.serialize(parseExactSszJson(type, json, name));
        assert.ok(Buffer.from(bytes).includes(littleEndian64(uint)), "the bytes carry the value itself");
        assert.deepEqual(twin.toJson(twin.deserialize(bytes)), json);
      }
    });

    it(`${name}: the exact twin has the chain type's bytes and root; the chain refuses > 2^53 - 1 by field`, () => {
      const twin = exactType(type);
      for (const uint of ["0", TWO_53_MINUS_1]) {
        const json = sampleJson(type, uint);
        const exact = parseExactSszJson(type, json, name);
        const chainValue = parseSszJson(type, json, name);
        assert.deepEqual(type.serialize(chainValue), twin.serialize(exact));
        assert.deepEqual(type.hashTreeRoot(chainValue), twin.hashTreeRoot(exact));
        assert.deepEqual(type.toJson(chainValue), json);
      }
      for (const uint of [TWO_53_PLUS_1, TWO_64_MINUS_1]) {
        assert.throws(
          () => parseSszJson(type, sampleJson(type, uint), name),
          (err: unknown) =>
            err instanceof ApiError &&
            err.statusCode === 400 &&
            new RegExp(`^Invalid ${name}\\.[a-z_.[\\]0-9]+: ${uint} is above 2\\^53 - 1 \\(9007199254740991\\)`).test(
              err.message,
            ),
        );
      }
    });
  }
});

describe("exact twins of basic lists and vectors of uint64", () => {
  it("round-trip 2^64 - 1 and keep the chain type's bytes", () => {
    for (const type of [new ListBasicType(Uint64, 4), new VectorBasicType(Uint64, 2)] as Type<unknown>[]) {
      const twin = exactType(type);
      assert.notEqual(twin, type);
      const json = [TWO_64_MINUS_1, TWO_53_PLUS_1];
      assert.deepEqual(twin.toJson(twin.deserialize(twin.serialize(parseExactSszJson(type, json, "list")))), json);
      const safe = ["1", TWO_53_MINUS_1];
      assert.deepEqual(
        type.serialize(parseSszJson(type, safe, "list")),
        twin.serialize(parseExactSszJson(type, safe, "list")),
      );
    }
  });
});

describe("strict SSZ-JSON decoding", () => {
  const block = sampleJson(Block, "7") as Record<string, unknown> & {
    body: { attestations: Record<string, unknown>[] };
  };
  const deepSlot = (value: unknown) => {
    const json = structuredClone(block);
    const att = json.body.attestations[0] as { data: Record<string, unknown> };
    att.data.slot = value;
    return json;
  };
  const refuses = (json: unknown, message: RegExp) =>
    assert.throws(
      () => parseSszJson(Block, json, "block"),
      (err: unknown) => err instanceof ApiError && err.statusCode === 400 && message.test(err.message),
    );

  it("names the field of every fault, however deep", () => {
    refuses(deepSlot(TWO_53_PLUS_1), /^Invalid block\.body\.attestations\[0\]\.data\.slot: 9007199254740993 is above/);
    refuses(deepSlot(7), /^Invalid block\.body\.attestations\[0\]\.data\.slot: .*not a JSON number/);
    refuses(deepSlot("-7"), /^Invalid block\.body\.attestations\[0\]\.data\.slot: expected an unsigned integer/);
    refuses(deepSlot("18446744073709551616"), /data\.slot: 18446744073709551616 is above 2\^64 - 1$/);
    refuses({ ...block, extra: "1" }, /^Invalid block\.extra: unknown field$/);
    const { slot: _dropped, ...withoutSlot } = block;
    refuses(withoutSlot, /^Invalid block\.slot: missing field$/);
    refuses(
      { ...block, parent_root: `0x${"zz".repeat(32)}` },
      /^Invalid block\.parent_root: expected 0x-prefixed hex of 32 bytes$/,
    );
    refuses({ ...block, state_root: "0x00" }, /^Invalid block\.state_root: expected 0x-prefixed hex of 32 bytes$/);
    refuses({ ...block, body: { attestations: {} } }, /^Invalid block\.body\.attestations: expected a list$/);
    refuses([], /^Invalid block: expected an object$/);
  });

  it("takes hex in either case and leading zeros in integers, as before", () => {
    const att = sampleJson(SignedAttestation, "0012") as Record<string, unknown>;
    const value = parseSszJson(SignedAttestation, { ...att, signature: `0x${"AB".repeat(96)}` }, "attestation");
    assert.equal(value.validatorIndex, 12);
    assert.equal(value.signature[0], 0xab);
  });
});

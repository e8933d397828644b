// The batch algorithm and wire format, on the main thread (MainThreadVerifier runs the exact
// code a worker runs).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SecretKey } from "@metronome/chain";
import { MainThreadVerifier } from "../src/mainThreadVerifier.ts";
import type { KeyedSignatureSetInput, SignatureSetInput } from "../src/types.ts";
import { decodeJob, encodeJob, RECORD_BYTES, toVerifiableSet, type VerifiableSet } from "../src/wire.ts";
import { distinctMessageSets, sameMessageSets, secretKeys, withWrongSignature } from "./fixtures.ts";

const sks = secretKeys(64);
const distinct = distinctMessageSets(64);
const same = sameMessageSets(32);

function falseIndexes(results: boolean[]): number[] {
  return results.flatMap((ok, i) => (ok ? [] : [i]));
}

describe("wire format", () => {
  it("round-trips sets through one packed buffer, keeping key length and the grouping hint", () => {
    const inputs: SignatureSetInput[] = [
      distinct[0] as SignatureSetInput,
      { ...(distinct[1] as SignatureSetInput), sameMessageGroup: false },
      { ...(distinct[2] as SignatureSetInput), publicKey: sks[2]?.toPublicKey().toBytes(true) as Uint8Array },
    ];
    const sets = inputs.map((s) => toVerifiableSet(s) as VerifiableSet);
    const buffer = encodeJob(sets);
    assert.equal(buffer.byteLength, 12 + 3 * RECORD_BYTES + 96 + 96 + 48);
    const decoded = decodeJob(buffer);
    assert.ok(decoded);
    assert.equal(decoded.length, 3);
    decoded.forEach((d, i) => {
      const input = inputs[i] as SignatureSetInput;
      assert.deepEqual(d.message, input.message);
      assert.deepEqual(d.publicKey, (input as KeyedSignatureSetInput).publicKey);
      assert.deepEqual(d.signature, input.signature);
    });
    assert.deepEqual(
      decoded.map((d) => [d.groupable, d.publicKey?.length]),
      [
        [true, 96],
        [false, 96],
        [true, 48],
      ],
    );
  });

  it("refuses foreign buffers and wrongly shaped sets", () => {
    assert.equal(decodeJob(new ArrayBuffer(3)), null);
    assert.equal(decodeJob(new ArrayBuffer(12 + RECORD_BYTES)), null); // no magic
    const good = encodeJob([toVerifiableSet(distinct[0] as SignatureSetInput) as VerifiableSet]);
    assert.equal(decodeJob(good.slice(0, good.byteLength - 1)), null);
    const base = distinct[0] as SignatureSetInput;
    assert.equal(toVerifiableSet({ ...base, message: new Uint8Array(31) }), null);
    assert.equal(toVerifiableSet({ ...base, publicKey: new Uint8Array(47) }), null);
    assert.equal(toVerifiableSet({ ...base, signature: new Uint8Array(95) }), null);
  });
});

describe("MainThreadVerifier (the batch check a worker runs)", () => {
  it("64 valid distinct-message sets: all true in one batch check, no fallback", async () => {
    const v = new MainThreadVerifier();
    const results = await v.verifySets(distinct);
    assert.equal(results.length, 64);
    assert.deepEqual(falseIndexes(results), []);
    const s = v.stats();
    assert.equal(s.batchChecks, 1);
    assert.equal(s.fallbacks, 0);
    assert.equal(s.individualChecks, 0);
    assert.equal(s.setsValid, 64);
    assert.ok(s.verifyMsTotal > 0, "busy time is counted on the main thread too");
    assert.equal(
      s.verifyMsTotal,
      s.recentBatches.reduce((ms, b) => ms + b.verifyMs, 0),
    );
  });

  it("one bad signature among 64: only it is false and one fallback is counted", async () => {
    const v = new MainThreadVerifier();
    const sets = distinct.slice();
    sets[41] = withWrongSignature(sets[41] as SignatureSetInput, sks[41] as SecretKey);
    assert.deepEqual(falseIndexes(await v.verifySets(sets)), [41]);
    assert.equal(v.stats().fallbacks, 1);
    assert.equal(v.stats().setsInvalid, 1);
  });

  it("32 signers of one root go through the randomized same-message path; one bad stays alone", async () => {
    const v = new MainThreadVerifier();
    assert.deepEqual(falseIndexes(await v.verifySets(same)), []);
    assert.equal(v.stats().sameMessageGroups, 1);
    assert.equal(v.stats().fallbacks, 0);

    const sets = same.slice();
    // Right message, wrong signer: the randomized sum fails, the per-set re-check finds it.
    sets[7] = { ...(sets[7] as SignatureSetInput), signature: (same[8] as SignatureSetInput).signature };
    assert.deepEqual(falseIndexes(await v.verifySets(sets)), [7]);
    assert.equal(v.stats().sameMessageGroups, 2);
    assert.equal(v.stats().fallbacks, 1);
  });

  it("sameMessageGroup: false keeps a set out of the group", async () => {
    const v = new MainThreadVerifier();
    const sets = same.slice(0, 4).map((s) => ({ ...s, sameMessageGroup: false }));
    assert.deepEqual(falseIndexes(await v.verifySets(sets)), []);
    assert.equal(v.stats().sameMessageGroups, 0);
    assert.equal(v.stats().batchChecks, 1);
  });

  it("a mixed batch splits into groups and a distinct-message batch", async () => {
    const v = new MainThreadVerifier();
    const sets = [...same.slice(0, 20), ...distinct.slice(20, 40), ...sameMessageSets(10, 0x11)];
    assert.deepEqual(falseIndexes(await v.verifySets(sets)), []);
    assert.equal(v.stats().sameMessageGroups, 2);
    assert.equal(v.stats().batchChecks, 3);
  });

  it("malformed keys and signatures give false without throwing; their neighbours still verify", async () => {
    const v = new MainThreadVerifier();
    const base = distinct.slice(0, 8);
    const b = (i: number) => base[i] as SignatureSetInput;
    const infinitySig = new Uint8Array(96);
    infinitySig[0] = 0xc0;
    const infinityKey = new Uint8Array(96);
    infinityKey[0] = 0x40;
    const sets: SignatureSetInput[] = [
      b(0),
      { ...b(1), signature: new Uint8Array(96).fill(0xff) }, // not a point
      { ...b(2), signature: new Uint8Array(95) }, // wrong length
      { ...b(3), publicKey: new Uint8Array(47) }, // wrong length
      { ...b(4), publicKey: new Uint8Array(48).fill(0x9a) }, // garbage compressed key
      { ...b(5), signature: infinitySig },
      { ...b(6), publicKey: infinityKey },
      b(7),
    ];
    const results = await v.verifySets(sets);
    assert.deepEqual(falseIndexes(results), [1, 2, 3, 4, 5, 6]);
    const s = v.stats();
    assert.equal(s.setsMalformedShape, 2);
    assert.equal(s.malformed, 4);

    // The same garbage inside a same-message group: the group check throws, the fallback isolates it.
    const group = same.slice(0, 6);
    group[2] = { ...(group[2] as SignatureSetInput), signature: new Uint8Array(96).fill(0xff) };
    assert.deepEqual(falseIndexes(await v.verifySets(group)), [2]);
  });

  it("rejects after close", async () => {
    const v = new MainThreadVerifier();
    await v.close();
    await assert.rejects(v.verifySets(distinct.slice(0, 1)), { code: "closed" });
  });
});

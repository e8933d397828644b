// Sets that name validators by index: the verifying thread holds the validators' keys, decodes
// each once, and aggregates an aggregate's participants itself; the caller's thread never
// serializes or adds keys.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  blst,
  computeForkDigest,
  createGenesisState,
  getAggregatedAttestationSignatureSet,
  interopValidators,
  PubkeyCache,
  type PublicKey,
  SigningDomains,
} from "@metronome/chain";
import { packValidatorKeys, ValidatorKeyTable } from "../src/keyTable.ts";
import { MainThreadVerifier } from "../src/mainThreadVerifier.ts";
import { verifierSignatureSet } from "../src/signatureSets.ts";
import type { IndexedSignatureSetInput, SignatureSetInput } from "../src/types.ts";
import { verifySetBatch } from "../src/verifyBatch.ts";
import { decodeJob, encodeJob, toVerifiableSet, type VerifiableSet } from "../src/wire.ts";
import { distinctMessageSets, secretKeys } from "./fixtures.ts";

const COUNT = 16;
const sks = secretKeys(COUNT);
const pks = sks.map((sk) => sk.toPublicKey());

function message(seed: number): Uint8Array {
  const m = new Uint8Array(32);
  new DataView(m.buffer).setUint32(0, seed);
  return m;
}

/** Validator i signs message `seed`. */
function single(i: number, seed = 1000 + i): IndexedSignatureSetInput {
  const msg = message(seed);
  return { message: msg, signature: (sks[i] as (typeof sks)[number]).sign(msg).toBytes(), validatorIndices: [i] };
}

/** `signers` sign one message; the set names `named` (the signers unless a test lies). */
function aggregate(signers: number[], seed: number, named = signers): IndexedSignatureSetInput {
  const msg = message(seed);
  const sig = blst.aggregateSignatures(signers.map((i) => (sks[i] as (typeof sks)[number]).sign(msg)));
  return { message: msg, signature: sig.toBytes(), validatorIndices: named };
}

function verifiable(sets: readonly SignatureSetInput[]): VerifiableSet[] {
  return sets.map((s) => toVerifiableSet(s, COUNT) as VerifiableSet);
}

describe("ValidatorKeyTable", () => {
  it("decodes each validator's key once, however many sets and batches name it", () => {
    const table = ValidatorKeyTable.fromPacked(packValidatorKeys(pks));
    let decoded = 0;
    for (let batch = 0; batch < 3; batch++) {
      const sets = [single(0, batch), single(1, batch), single(2, batch), aggregate([0, 1, 3], 50 + batch)];
      const outcome = verifySetBatch(verifiable(sets), table);
      assert.deepEqual([...outcome.results], [1, 1, 1, 1]);
      decoded += outcome.counters.keysDecoded;
      assert.equal(outcome.counters.keyAggregations, 1);
    }
    assert.equal(table.decodes, 4, "validators 0-3, once each");
    assert.equal(decoded, 4);
  });

  it("an unknown index or a lying participant list gives false, not a throw; neighbours verify", () => {
    const table = ValidatorKeyTable.fromPacked(packValidatorKeys(pks));
    const good = aggregate([4, 5], 70);
    const sets: VerifiableSet[] = [
      ...verifiable([single(6), good, aggregate([4, 5], 71, [4, 5, 7])]),
      // As a worker would decode it from a job built against a larger table.
      { ...(verifiable([single(8)])[0] as VerifiableSet), validatorIndices: Uint32Array.of(COUNT + 5) },
      { ...(verifiable([good])[0] as VerifiableSet), validatorIndices: Uint32Array.of(4, COUNT) },
    ];
    const outcome = verifySetBatch(sets, table);
    assert.deepEqual([...outcome.results], [1, 1, 0, 0, 0]);
    assert.equal(outcome.counters.malformed, 2);
    // Without a table, indexed sets cannot verify.
    assert.deepEqual([...verifySetBatch(verifiable([single(6)]), null).results], [0]);
  });
});

describe("indexed sets on the wire and through a verifier", () => {
  it("round-trip through one job buffer next to sets that carry keys", () => {
    const keyed = distinctMessageSets(2);
    const sets = verifiable([
      single(3),
      keyed[0] as SignatureSetInput,
      aggregate([1, 2, 9], 80),
      keyed[1] as SignatureSetInput,
    ]);
    const decoded = decodeJob(encodeJob(sets));
    assert.ok(decoded);
    assert.deepEqual(
      decoded.map((d) => (d.validatorIndices === null ? null : Array.from(d.validatorIndices))),
      [[3], null, [1, 2, 9], null],
    );
    assert.deepEqual(
      decoded.map((d) => d.publicKey?.length ?? 0),
      [0, 96, 0, 96],
    );
    decoded.forEach((d, i) => {
      assert.deepEqual(d.signature, (sets[i] as VerifiableSet).signature);
      assert.deepEqual(d.message, (sets[i] as VerifiableSet).message);
    });
    assert.deepEqual([...verifySetBatch(decoded, ValidatorKeyTable.fromKeys(pks)).results], [1, 1, 1, 1]);
  });

  it("a verifier refuses indices outside its table (or any, without one) before any crypto", async () => {
    const v = new MainThreadVerifier({ validatorKeys: pks });
    assert.equal(v.validatorCount(), COUNT);
    const sets: SignatureSetInput[] = [
      single(1),
      { ...single(2), validatorIndices: [COUNT] },
      { ...single(2), validatorIndices: [] },
      { ...single(2), validatorIndices: [1.5] },
      aggregate([2, 3], 90),
    ];
    assert.deepEqual(await v.verifySets(sets), [true, false, false, false, true]);
    assert.equal(v.stats().setsMalformedShape, 3);
    const keyless = new MainThreadVerifier();
    assert.deepEqual(await keyless.verifySets([single(1)]), [false]);
  });
});

describe("verifierSignatureSet (the node's set builder)", () => {
  const validators = interopValidators(COUNT);
  const domains = new SigningDomains(computeForkDigest(createGenesisState(0, validators)));

  /** Counts the main thread's key additions and serializations. */
  class CountingPubkeys extends PubkeyCache {
    aggregations = 0;
    override aggregate(indices: readonly number[]): PublicKey {
      this.aggregations++;
      return super.aggregate(indices);
    }
  }

  function chainAggregateSet(pubkeys: PubkeyCache) {
    const data = {
      slot: 3,
      head: { root: new Uint8Array(32).fill(1), slot: 3 },
      target: { root: new Uint8Array(32).fill(1), slot: 3 },
      source: { root: new Uint8Array(32), slot: 0 },
    };
    const bits = [true, false, true, true, ...new Array(COUNT - 4).fill(false)];
    const msg = domains.attestationSigningRoot(data);
    const signature = blst
      .aggregateSignatures([0, 2, 3].map((i) => (sks[i] as (typeof sks)[number]).sign(msg)))
      .toBytes();
    return getAggregatedAttestationSignatureSet(pubkeys, domains, {
      data,
      aggregationBits: { getTrueBitIndexes: () => bits.flatMap((b, i) => (b ? [i] : [])) },
      signature,
    } as never);
  }

  it("with a verifier holding the keys: names the participants, adds and serializes no key", async () => {
    const pubkeys = new CountingPubkeys(validators);
    const v = new MainThreadVerifier({ validatorKeys: pubkeys.all() });
    const set = verifierSignatureSet(v, chainAggregateSet(pubkeys));
    assert.equal(pubkeys.aggregations, 0, "no key addition on the caller's thread");
    assert.deepEqual((set as IndexedSignatureSetInput).validatorIndices, [0, 2, 3]);
    assert.equal("publicKey" in set, false, "no key bytes");
    assert.deepEqual(await v.verifySets([set]), [true]);
    assert.equal(v.stats().keyAggregations, 1, "the verifier added the keys");
  });

  it("with a keyless verifier: the aggregated key goes out uncompressed, as before", async () => {
    const pubkeys = new CountingPubkeys(validators);
    const v = new MainThreadVerifier();
    const set = verifierSignatureSet(v, chainAggregateSet(pubkeys));
    assert.equal(pubkeys.aggregations, 1);
    assert.equal((set as { publicKey: Uint8Array }).publicKey.length, 96);
    assert.deepEqual(await v.verifySets([set]), [true]);
  });
});

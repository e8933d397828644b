import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { AggregatePool, isSubsetOf } from "../../src/forkChoice/aggregatePool.ts";
import {
  getAggregatedAttestationSignatureSet,
  getAttestationSignatureSet,
  verifySignatureSet,
  verifySignedAggregatedAttestation,
  verifySignedAttestation,
} from "../../src/forkChoice/attestationSignatures.ts";
import {
  type AttestationData,
  blst,
  ChainError,
  computeForkDigest,
  createGenesisState,
  interopSecretKeys,
  interopValidators,
  PubkeyCache,
  type RejectionCode,
  type SignedAggregatedAttestation,
  SigningDomains,
} from "../../src/index.ts";
import { aggregateAttestations, signAttestation } from "../../src/validator/attest.ts";

const N = 4;
const keys = interopSecretKeys(N);
const validators = interopValidators(N);
const pubkeys = new PubkeyCache(validators);
const domains = new SigningDomains(computeForkDigest(createGenesisState(0, validators)));

function voteData(slot: number, tag = 0): AttestationData {
  const r = new Uint8Array(32).fill(tag + 1);
  return { slot, head: { root: r, slot }, target: { root: r, slot }, source: { root: r, slot: 0 } };
}

function throwsCode(fn: () => void, code: RejectionCode): void {
  assert.throws(fn, (e: unknown) => e instanceof ChainError && e.code === code, `expected ${code}`);
}

function bits(indices: number[], len = N): BitArray {
  const b = BitArray.fromBitLen(len);
  for (const i of indices) b.set(i, true);
  return b;
}

describe("single attestation signatures", () => {
  const d = voteData(3);

  it("verify for the signer and nobody else", () => {
    const att = signAttestation(keys[2]!, 2, d, domains);
    verifySignedAttestation(pubkeys, domains, att);
    throwsCode(() => verifySignedAttestation(pubkeys, domains, { ...att, validatorIndex: 1 }), "INVALID_SIGNATURE");
    throwsCode(() => verifySignedAttestation(pubkeys, domains, { ...att, data: voteData(4) }), "INVALID_SIGNATURE");
  });

  it("reject a different fork digest", () => {
    const other = new SigningDomains(Uint8Array.of(9, 9, 9, 9));
    const att = signAttestation(keys[0]!, 0, d, other);
    throwsCode(() => verifySignedAttestation(pubkeys, domains, att), "INVALID_SIGNATURE");
  });

  it("reject malformed signature bytes without throwing anything else", () => {
    const att = signAttestation(keys[0]!, 0, d, domains);
    throwsCode(
      () => verifySignedAttestation(pubkeys, domains, { ...att, signature: new Uint8Array(96) }),
      "INVALID_SIGNATURE",
    );
    throwsCode(
      () => verifySignedAttestation(pubkeys, domains, { ...att, signature: new Uint8Array(96).fill(0xab) }),
      "INVALID_SIGNATURE",
    );
  });

  it("reject an unknown validator index", () => {
    const att = signAttestation(keys[0]!, 0, d, domains);
    throwsCode(
      () => verifySignedAttestation(pubkeys, domains, { ...att, validatorIndex: N }),
      "VALIDATOR_INDEX_OUT_OF_RANGE",
    );
    throwsCode(
      () => verifySignedAttestation(pubkeys, domains, { ...att, validatorIndex: Number.POSITIVE_INFINITY }),
      "VALIDATOR_INDEX_OUT_OF_RANGE",
    );
  });

  it("expose a signature set a batch verifier can check", () => {
    const set = getAttestationSignatureSet(pubkeys, domains, signAttestation(keys[1]!, 1, d, domains));
    assert.equal(verifySignatureSet(set), true);
    assert.equal(verifySignatureSet({ ...set, publicKey: pubkeys.get(0) }), false);
  });
});

describe("aggregateAttestations and aggregate signatures", () => {
  const d = voteData(5);
  const atts = [0, 1, 3].map((i) => signAttestation(keys[i]!, i, d, domains));

  it("one aggregate per data, bits per participant, verifying signature", () => {
    const other = signAttestation(keys[2]!, 2, voteData(5, 1), domains);
    const duplicate = signAttestation(keys[1]!, 1, d, domains);
    const out = aggregateAttestations([...atts, other, duplicate]);
    assert.equal(out.length, 2);
    const [agg, single] = out as [SignedAggregatedAttestation, SignedAggregatedAttestation];
    assert.deepEqual(agg.aggregationBits.getTrueBitIndexes(), [0, 1, 3]);
    assert.deepEqual(single.aggregationBits.getTrueBitIndexes(), [2]);
    verifySignedAggregatedAttestation(pubkeys, domains, agg);
    verifySignedAggregatedAttestation(pubkeys, domains, single);
    assert.equal(verifySignatureSet(getAggregatedAttestationSignatureSet(pubkeys, domains, agg)), true);
  });

  it("skips a second, different signature from the same validator for one data", () => {
    const forged = { ...atts[0]!, signature: atts[2]!.signature };
    const [agg] = aggregateAttestations([...atts, forged]);
    verifySignedAggregatedAttestation(pubkeys, domains, agg!);
  });

  it("skips a vote whose signature bytes are not a point; the others still aggregate and verify", () => {
    // Decoded without the subgroup check (the inputs were verified), the curve check still runs.
    for (const junk of [new Uint8Array(96).fill(0xff), new Uint8Array(96).fill(0xab), new Uint8Array(95)]) {
      const bad = signAttestation(keys[2]!, 2, d, domains);
      const [agg, ...rest] = aggregateAttestations([...atts, { ...bad, signature: junk }]);
      assert.equal(rest.length, 0);
      assert.deepEqual(agg!.aggregationBits.getTrueBitIndexes(), [0, 1, 3]);
      verifySignedAggregatedAttestation(pubkeys, domains, agg!);
    }
  });

  it("the aggregate of verified votes equals blst's checked aggregate of the same signatures", () => {
    const [agg] = aggregateAttestations(atts);
    const checked = blst
      .aggregateSerializedSignatures(
        atts.map((a) => a.signature),
        true,
      )
      .toBytes();
    assert.deepEqual(agg!.signature, checked);
  });

  it("rejects a participant that did not sign", () => {
    const [agg] = aggregateAttestations(atts);
    throwsCode(
      () => verifySignedAggregatedAttestation(pubkeys, domains, { ...agg!, aggregationBits: bits([0, 1, 2, 3]) }),
      "INVALID_SIGNATURE",
    );
    throwsCode(
      () => verifySignedAggregatedAttestation(pubkeys, domains, { ...agg!, aggregationBits: bits([0, 1]) }),
      "INVALID_SIGNATURE",
    );
  });

  it("rejects empty bits and participants outside the registry", () => {
    const [agg] = aggregateAttestations(atts);
    throwsCode(
      () => verifySignedAggregatedAttestation(pubkeys, domains, { ...agg!, aggregationBits: bits([], 8) }),
      "EMPTY_AGGREGATION_BITS",
    );
    throwsCode(
      () => verifySignedAggregatedAttestation(pubkeys, domains, { ...agg!, aggregationBits: bits([0, 1, 3, 6], 8) }),
      "VALIDATOR_INDEX_OUT_OF_RANGE",
    );
  });

  it("drops attestations whose signature does not decode instead of throwing", () => {
    const out = aggregateAttestations([{ ...atts[0]!, signature: new Uint8Array(96).fill(1) }, atts[1]!]);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.aggregationBits.getTrueBitIndexes(), [1]);
    assert.deepEqual(aggregateAttestations([]), []);
  });
});

describe("AggregatePool", () => {
  const d = voteData(6);
  const sign = (i: number, data = d) => signAttestation(keys[i]!, i, data, domains);
  const agg = (indices: number[], data = d) => aggregateAttestations(indices.map((i) => sign(i, data)))[0]!;

  it("combines disjoint aggregates into one that still verifies", () => {
    const pool = new AggregatePool();
    assert.equal(pool.add(agg([0, 1])), "added");
    assert.equal(pool.add(agg([3])), "merged");
    const held = pool.get(d)!;
    assert.deepEqual(held.aggregationBits.getTrueBitIndexes(), [0, 1, 3]);
    verifySignedAggregatedAttestation(pubkeys, domains, held);
    assert.equal(pool.size, 1);
  });

  it("keeps the larger of two overlapping aggregates", () => {
    const pool = new AggregatePool();
    pool.add(agg([0, 1]));
    assert.equal(pool.add(agg([1])), "ignored");
    assert.equal(pool.add(agg([1, 2, 3])), "replaced");
    assert.deepEqual(pool.get(d)!.aggregationBits.getTrueBitIndexes(), [1, 2, 3]);
    verifySignedAggregatedAttestation(pubkeys, domains, pool.get(d)!);
  });

  it("covers an aggregate only when the one held for its data has every participant", () => {
    const pool = new AggregatePool();
    assert.equal(pool.covers(d, bits([0])), false, "nothing held for the data");
    pool.add(agg([0, 1]));
    pool.add(agg([3]));
    assert.equal(pool.covers(d, bits([0, 1, 3])), true, "equal counts as covered");
    assert.equal(pool.covers(d, bits([1, 3])), true);
    assert.equal(pool.covers(d, bits([1, 2])), false, "validator 2 would be a new vote");
    assert.equal(pool.covers(voteData(7), bits([0])), false, "other data");
    assert.equal(pool.covers(d, bits([])), false, "no participant: left for the checks to reject");
  });

  it("isSubsetOf compares every byte, and bits past the shorter list count", () => {
    assert.equal(isSubsetOf(bits([]), bits([1])), true);
    assert.equal(isSubsetOf(bits([9], 16), bits([9, 10], 16)), true, "second byte");
    assert.equal(isSubsetOf(bits([9], 16), bits([1, 10], 16)), false, "a second-byte bit missing");
    assert.equal(isSubsetOf(bits([1, 12], 16), bits([1, 2], 4)), false, "a bit beyond the held list");
    assert.equal(isSubsetOf(bits([1], 4), bits([1, 12], 16)), true, "a shorter list inside a longer one");
  });

  it("caps distinct data, evicting the oldest slot and refusing older newcomers", () => {
    const pool = new AggregatePool({ maxData: 3 });
    for (const slot of [10, 11, 12]) pool.add(agg([0], voteData(slot)));
    assert.equal(pool.add(agg([0], voteData(9))), "ignored");
    assert.equal(pool.add(agg([0], voteData(13))), "added");
    assert.equal(pool.size, 3);
    assert.deepEqual(
      pool
        .values()
        .map((a) => a.data.slot)
        .sort((a, b) => a - b),
      [11, 12, 13],
    );
  });

  it("prunes finalized, out-of-window and rejected entries", () => {
    const pool = new AggregatePool({ slotWindow: 10 });
    for (const slot of [5, 20, 30, 31]) pool.add(agg([0], voteData(slot)));
    assert.equal(pool.prune(5, 35), 2); // 5 is finalized, 20 + 10 < 35
    assert.equal(
      pool.prune(5, 35, (data) => data.slot !== 31),
      1,
    );
    assert.deepEqual(
      pool.values().map((a) => a.data.slot),
      [30],
    );
  });
});

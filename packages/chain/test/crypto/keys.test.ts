import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  aggregateSignatureBytes,
  computeDomain,
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  DOMAIN_ATTESTATION,
  forkDigestHex,
  interopSecretKey,
  interopSecretKeyBytes,
  interopValidators,
  PubkeyCache,
  SigningDomains,
  State,
  toHex,
  verifyAggregate,
  verifyFastAggregate,
  verifySignature,
} from "../../src/index.ts";

describe("interop keys", () => {
  it("match the published Ethereum interop vectors", () => {
    // Well-known first interop key pair used by every Ethereum client's devnet tooling.
    assert.equal(toHex(interopSecretKeyBytes(0)), "0x25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866");
    assert.equal(
      interopSecretKey(0).toPublicKey().toHex(),
      "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c",
    );
    assert.equal(toHex(interopSecretKeyBytes(1)), "0x51d0b65185db6989ab0b560d6deed19c7ead0e24b9b6372cbecb1f26bdfad000");
  });

  it("rejects negative and fractional indices", () => {
    assert.throws(() => interopSecretKeyBytes(-1));
    assert.throws(() => interopSecretKeyBytes(1.5));
  });
});

describe("genesis and domains", () => {
  const validators = interopValidators(4);
  const state = createGenesisState(1_700_000_000, validators);

  it("fork digest is the first 4 bytes of the genesis state root and changes with genesis", () => {
    const digest = computeForkDigest(state);
    assert.deepEqual(digest, State.hashTreeRoot(state).slice(0, 4));
    assert.match(forkDigestHex(digest), /^[0-9a-f]{8}$/);
    const other = createGenesisState(1_700_000_001, validators);
    assert.notEqual(forkDigestHex(computeForkDigest(other)), forkDigestHex(digest));
  });

  it("genesis block commits to the genesis state", () => {
    const block = createGenesisBlock(state);
    assert.equal(block.slot, 0);
    assert.deepEqual(block.stateRoot, State.hashTreeRoot(state));
  });

  it("rejects a validator whose index differs from its position", () => {
    const bad = interopValidators(2).map((v) => ({ ...v, index: 5 }));
    assert.throws(() => createGenesisState(0, bad), /index/);
  });

  it("domain layout is type ++ digest ++ 24 zero bytes", () => {
    const digest = Uint8Array.of(1, 2, 3, 4);
    const domain = computeDomain(DOMAIN_ATTESTATION, digest);
    assert.equal(domain.length, 32);
    assert.deepEqual([...domain.subarray(0, 8)], [1, 0, 0, 0, 1, 2, 3, 4]);
    assert.ok(domain.subarray(8).every((b) => b === 0));
  });

  it("block and attestation signing roots differ for the same object root", () => {
    const domains = new SigningDomains(computeForkDigest(state));
    assert.notDeepEqual(domains.block, domains.attestation);
  });
});

describe("BLS helpers", () => {
  const keys = [0, 1, 2].map((i) => interopSecretKey(i));
  const cache = new PubkeyCache(interopValidators(3));
  const msg = new Uint8Array(32).fill(9);

  it("single, fast-aggregate and aggregate verification accept good and reject bad signatures", () => {
    const sigs = keys.map((k) => k.sign(msg).toBytes());
    assert.ok(verifySignature(msg, cache.get(0), sigs[0]!));
    assert.ok(!verifySignature(msg, cache.get(1), sigs[0]!));
    const agg = aggregateSignatureBytes(sigs);
    assert.ok(verifyFastAggregate(msg, cache.getMany([0, 1, 2]), agg));
    assert.ok(!verifyFastAggregate(msg, cache.getMany([0, 1]), agg));
    const msgs = [0, 1, 2].map((i) => new Uint8Array(32).fill(i + 1));
    const multi = aggregateSignatureBytes(keys.map((k, i) => k.sign(msgs[i]!).toBytes()));
    assert.ok(verifyAggregate(msgs, cache.getMany([0, 1, 2]), multi));
    assert.ok(!verifyAggregate([msgs[1]!, msgs[0]!, msgs[2]!], cache.getMany([0, 1, 2]), multi));
  });

  it("malformed signatures and keys are rejected without throwing", () => {
    assert.equal(verifySignature(msg, cache.get(0), new Uint8Array(96)), false);
    assert.equal(verifySignature(msg, cache.get(0), new Uint8Array(95).fill(1)), false);
    assert.equal(verifyFastAggregate(msg, [], keys[0]!.sign(msg).toBytes()), false);
    assert.equal(verifyAggregate([msg], [], keys[0]!.sign(msg).toBytes()), false);
    assert.throws(() => new PubkeyCache([{ pubkey: new Uint8Array(48), index: 0 }]), /invalid BLS public key/);
    assert.equal(cache.has(3), false);
    assert.throws(() => cache.get(3), RangeError);
  });
});

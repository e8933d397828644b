// A block's aggregate signature as a worker job: the wire round trip, the shape checks, and the
// check itself on the main thread and through a real worker, against real BLS.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { blst, type SecretKey } from "@metronome/chain";
import { decodeAggregateJob, encodeAggregateJob, toAggregateJob, verifyAggregateJob } from "../src/aggregateJob.ts";
import { ValidatorKeyTable } from "../src/keyTable.ts";
import { MainThreadVerifier } from "../src/mainThreadVerifier.ts";
import { BlsVerifierPool } from "../src/pool.ts";
import type { AggregateSignatureInput } from "../src/types.ts";
import { decodeJob } from "../src/wire.ts";
import { secretKeys } from "./fixtures.ts";

const sks = secretKeys(8);
const keys = sks.map((sk) => sk.toPublicKey());

function root(seed: number): Uint8Array {
  const m = new Uint8Array(32);
  new DataView(m.buffer).setUint32(0, seed);
  return m;
}

/** A block-shaped input: the proposer over message 0, then groups of signers over one message each. */
function blockLike(proposer: number, groups: number[][]): AggregateSignatureInput {
  const messages = [root(1000), ...groups.map((_, i) => root(i))];
  const signatures = [(sks[proposer] as SecretKey).sign(messages[0] as Uint8Array)];
  groups.forEach((group, i) => {
    for (const v of group) signatures.push((sks[v] as SecretKey).sign(messages[i + 1] as Uint8Array));
  });
  const signature = blst.aggregateSignatures(signatures).toBytes();
  return { messages, signers: [[proposer], ...groups], signature };
}

const valid = blockLike(2, [[0, 1, 3], [4], [5, 6, 7]]);

describe("aggregate job: wire and shape", () => {
  it("round-trips messages, signer lists and the signature through one buffer", () => {
    const job = toAggregateJob(valid, 8);
    assert.ok(job);
    const decoded = decodeAggregateJob(encodeAggregateJob(job));
    assert.ok(decoded);
    assert.deepEqual(
      decoded.messages.map((m) => [...m]),
      valid.messages.map((m) => [...m]),
    );
    assert.deepEqual(
      decoded.signers.map((s) => [...Array.from(s)]),
      valid.signers,
    );
    assert.deepEqual([...decoded.signature], [...valid.signature]);
  });

  it("a set job is not an aggregate job and the reverse, so the worker cannot mistake one for the other", () => {
    const buffer = encodeAggregateJob(toAggregateJob(valid, 8) as NonNullable<ReturnType<typeof toAggregateJob>>);
    assert.equal(decodeJob(buffer), null);
    assert.equal(decodeAggregateJob(new ArrayBuffer(12)), null);
    assert.equal(decodeAggregateJob(buffer.slice(0, buffer.byteLength - 4)), null, "truncated");
  });

  it("refuses shapes that can never verify, before any crypto", () => {
    const bad: AggregateSignatureInput[] = [
      { ...valid, messages: [], signers: [] },
      { ...valid, signers: valid.signers.slice(1) },
      { ...valid, signers: [[2], [], [4], [5]] },
      { ...valid, signers: [[2], [0, 8], [4], [5]] },
      { ...valid, signers: [[2], [-1], [4], [5]] },
      { ...valid, messages: [new Uint8Array(31), ...valid.messages.slice(1)] },
      { ...valid, signature: new Uint8Array(95) },
    ];
    for (const input of bad) assert.equal(toAggregateJob(input, 8), null);
  });
});

describe("aggregate job: the check", () => {
  const table = ValidatorKeyTable.fromKeys(keys);

  it("true for the block's aggregate; false for a wrong signer, a missing one, or another message", () => {
    const job = (input: AggregateSignatureInput) =>
      toAggregateJob(input, 8) as NonNullable<ReturnType<typeof toAggregateJob>>;
    assert.equal(verifyAggregateJob(job(valid), table), true);
    assert.equal(verifyAggregateJob(job({ ...valid, signers: [[2], [0, 1, 2], [4], [5, 6, 7]] }), table), false);
    assert.equal(verifyAggregateJob(job({ ...valid, signers: [[2], [0, 1], [4], [5, 6, 7]] }), table), false);
    assert.equal(
      verifyAggregateJob(job({ ...valid, messages: [root(1001), ...valid.messages.slice(1)] }), table),
      false,
    );
    assert.equal(verifyAggregateJob(job({ ...valid, signature: new Uint8Array(96).fill(0xab) }), table), false);
    assert.equal(verifyAggregateJob(job(valid), null), false, "no key table");
  });

  it("the main-thread verifier gives the same answers and counts one set per check", async () => {
    const v = new MainThreadVerifier({ validatorKeys: keys });
    assert.equal(await v.verifyAggregateSignature(valid), true);
    assert.equal(await v.verifyAggregateSignature({ ...valid, signers: [[3], ...valid.signers.slice(1)] }), false);
    assert.equal(await v.verifyAggregateSignature({ ...valid, signers: [[2], [9], [4], [5]] }), false);
    const s = v.stats();
    assert.equal(s.setsVerified, 2);
    assert.equal(s.setsValid, 1);
    assert.equal(s.setsMalformedShape, 1);
    await v.close();
    await assert.rejects(v.verifyAggregateSignature(valid), { code: "closed" });
  });
});

describe("aggregate job through a worker (BlsVerifierPool)", () => {
  let pool: BlsVerifierPool;
  before(async () => {
    pool = new BlsVerifierPool({ workers: 1, validatorKeys: keys });
    await pool.ready();
  });
  after(() => pool.close());

  it("verified in the worker: true, false, and never batched with sets", async () => {
    const prev = pool.stats();
    const otherProposer = blockLike(3, [[0, 1, 3], [4], [5, 6, 7]]);
    const [good, forged] = await Promise.all([
      pool.verifyAggregateSignature(valid),
      pool.verifyAggregateSignature({ ...valid, signature: otherProposer.signature }),
    ]);
    assert.equal(good, true);
    assert.equal(forged, false, "signed by another proposer");
    const s = pool.stats();
    assert.equal(s.jobsFinished - prev.jobsFinished, 2, "one job per aggregate check");
    assert.equal(s.setsVerified - prev.setsVerified, 2);
    assert.equal(s.jobsInFlight, 0);
    assert.equal(s.pendingSets, 0);
    assert.ok(s.verifyMsTotal > prev.verifyMsTotal, "the worker's busy time includes the check");
  });

  it("a pool without the key table answers false; a closed pool rejects with closed", async () => {
    const keyless = new BlsVerifierPool({ workers: 1 });
    try {
      assert.equal(await keyless.verifyAggregateSignature(valid), false);
    } finally {
      await keyless.close();
    }
    await assert.rejects(keyless.verifyAggregateSignature(valid), { code: "closed" });
  });
});

// BlsVerifierPool with real worker threads and real BLS. Pools are few (each costs a thread
// start-up) and kept to one worker, as on the 2-core target.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SecretKey } from "@metronome/chain";
import { BLS_WORKER_NICE_OFFSET, expectedWorkerNice, workerThreadNiceValues } from "@metronome/clock/threadPriority";
import { MainThreadVerifier } from "../src/mainThreadVerifier.ts";
import { BlsVerifierPool, defaultMaxQueuedSets } from "../src/pool.ts";
import { isBlsVerifierError, type SignatureSetInput } from "../src/types.ts";
import {
  distinctMessageSets,
  sameMessageSets,
  secretKeys,
  waitFor,
  withDeadline,
  withWrongSignature,
} from "./fixtures.ts";

const sks = secretKeys(64);
const distinct = distinctMessageSets(64);
const same = sameMessageSets(32);

function falseIndexes(results: boolean[]): number[] {
  return results.flatMap((ok, i) => (ok ? [] : [i]));
}

describe("BlsVerifierPool: verification through a worker", () => {
  const batches: number[] = [];
  let pool: BlsVerifierPool;
  before(async () => {
    pool = new BlsVerifierPool({ workers: 1, onBatch: (size) => batches.push(size) });
    await pool.ready();
  });
  after(() => pool.close());

  it(
    "the worker runs nicer than the driver thread, so a woken driver gets a shared core first",
    {
      skip: process.platform !== "linux" && "per-thread nice is Linux only",
    },
    () => {
      assert.deepEqual(workerThreadNiceValues(), [expectedWorkerNice(BLS_WORKER_NICE_OFFSET)]);
    },
  );

  it("64 valid sets: all true, as one job", async () => {
    const prev = pool.stats();
    const results = await pool.verifySets(distinct);
    assert.equal(results.length, 64);
    assert.deepEqual(falseIndexes(results), []);
    const s = pool.stats();
    assert.equal(s.jobsFinished - prev.jobsFinished, 1);
    assert.equal(s.setsValid - prev.setsValid, 64);
    assert.equal(s.fallbacks, prev.fallbacks);
    assert.equal(batches.at(-1), 64);
    assert.equal(s.recentBatches.at(-1)?.size, 64);
    // Busy time is a running total of the workers' own measurements (metronome_bls_verify_seconds_total).
    const verifyMs = s.recentBatches.at(-1)?.verifyMs ?? 0;
    assert.ok(verifyMs > 0);
    assert.ok(Math.abs(s.verifyMsTotal - prev.verifyMsTotal - verifyMs) < 1e-9);
  });

  it("one bad signature among 63 good: exactly that one is false and a fallback is counted", async () => {
    const prev = pool.stats();
    const sets = distinct.slice();
    sets[17] = withWrongSignature(sets[17] as SignatureSetInput, sks[17] as SecretKey);
    assert.deepEqual(falseIndexes(await pool.verifySets(sets)), [17]);
    const s = pool.stats();
    assert.equal(s.fallbacks - prev.fallbacks, 1);
    assert.equal(s.setsInvalid - prev.setsInvalid, 1);
  });

  it("32 validators signing one root: one randomized group check; one bad in the group stays alone", async () => {
    let prev = pool.stats();
    assert.deepEqual(falseIndexes(await pool.verifySets(same)), []);
    let s = pool.stats();
    assert.equal(s.sameMessageGroups - prev.sameMessageGroups, 1);
    assert.equal(s.individualChecks - prev.individualChecks, 0);

    prev = s;
    const sets = same.slice();
    sets[30] = { ...(sets[30] as SignatureSetInput), signature: (same[3] as SignatureSetInput).signature };
    assert.deepEqual(falseIndexes(await pool.verifySets(sets)), [30]);
    s = pool.stats();
    assert.equal(s.sameMessageGroups - prev.sameMessageGroups, 1);
    assert.equal(s.fallbacks - prev.fallbacks, 1);
  });

  it("malformed signature bytes and a wrong-length key give false, never a rejection", async () => {
    const sets: SignatureSetInput[] = [
      distinct[0] as SignatureSetInput,
      { ...(distinct[1] as SignatureSetInput), signature: new Uint8Array(96).fill(0xff) },
      { ...(distinct[2] as SignatureSetInput), publicKey: new Uint8Array(50) },
      { ...(distinct[3] as SignatureSetInput), signature: new Uint8Array(12) },
      distinct[4] as SignatureSetInput,
    ];
    assert.deepEqual(await pool.verifySets(sets), [true, false, false, false, true]);
    // A call of nothing but bad shapes never reaches a worker.
    const jobs = pool.stats().jobsStarted;
    assert.deepEqual(await pool.verifySets([sets[2] as SignatureSetInput]), [false]);
    assert.equal(pool.stats().jobsStarted, jobs);
    assert.deepEqual(await pool.verifySets([]), []);
  });

  it("buffers a lone set briefly, then dispatches it within the deadline", async () => {
    const jobs = pool.stats().jobsStarted;
    const pending = pool.verifySet(distinct[9] as SignatureSetInput);
    // Not sent synchronously: it waits for batch-mates...
    assert.equal(pool.stats().jobsStarted, jobs);
    assert.equal(pool.stats().queuedSets, 1);
    // ...for at most maxBufferWaitMs (5 ms); 250 ms leaves room for a loaded machine.
    await waitFor(() => pool.stats().jobsStarted === jobs + 1, 250, "the buffered set to be dispatched");
    assert.equal(await pending, true);
  });

  it("keeps the main loop running while a worker verifies (the main-thread verifier does not)", async () => {
    const sets = distinct.slice();
    sets[5] = withWrongSignature(sets[5] as SignatureSetInput, sks[5] as SecretKey); // slow fallback path
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      await pool.verifySets(sets);
      assert.ok(ticks >= 2, `main loop ticked ${ticks} times during a pool verification`);
      ticks = 0;
      const mainThread = new MainThreadVerifier();
      const done = mainThread.verifySets(sets);
      const ticksWhileVerifying = ticks; // the whole verification already ran synchronously
      await done;
      assert.equal(ticksWhileVerifying, 0);
    } finally {
      clearInterval(ticker);
    }
  });
});

describe("BlsVerifierPool: bounded queue", () => {
  it("by default accepts only what its workers hold plus one filling batch, not a second of backlog", async () => {
    assert.equal(defaultMaxQueuedSets(1, 2, 64), 192);
    const pool = new BlsVerifierPool({ workers: 1, jobsPerWorker: 2, maxBatchSize: 4 });
    try {
      assert.equal(pool.capacityLeft(), 12, "(1 worker x 2 jobs + 1 filling batch) x 4 sets");
    } finally {
      await pool.close();
    }
  });

  it("refuses the overflow at once, counts it, and still resolves everything it accepted", async () => {
    const pool = new BlsVerifierPool({ workers: 1, maxQueuedSets: 8, maxBatchSize: 4, maxBufferWaitMs: 1 });
    try {
      const accepted = distinct.slice(0, 8).map((set) => pool.verifySet(set));
      assert.equal(pool.stats().pendingSets, 8);

      let refusedSync = false;
      const refused = pool.verifySet(distinct[8] as SignatureSetInput).catch((err: unknown) => {
        refusedSync = isBlsVerifierError(err, "queue_full");
      });
      // Counted synchronously, before any verification finished.
      assert.equal(pool.stats().dropped.queue_full, 1);
      assert.equal(pool.stats().jobsFinished, 0);
      // A multi-set call is refused whole (no half-verified block).
      await assert.rejects(pool.verifySets(distinct.slice(9, 11)), { code: "queue_full" });
      assert.equal(pool.stats().dropped.queue_full, 3);
      await refused;
      assert.equal(refusedSync, true);

      assert.deepEqual(await withDeadline(Promise.all(accepted), 10_000, "accepted sets"), new Array(8).fill(true));
      assert.equal(pool.stats().pendingSets, 0);
      // Capacity freed: new work is accepted again.
      assert.deepEqual(await pool.verifySets(distinct.slice(9, 11)), [true, true]);
    } finally {
      await pool.close();
    }
  });
});

describe("BlsVerifierPool: close", () => {
  it("a full batch goes out at once; close() settles in-flight and buffered promises without hanging", async () => {
    const pool = new BlsVerifierPool({ workers: 1, maxBufferWaitMs: 60_000 });
    const full = pool.verifySets(distinct);
    assert.equal(pool.stats().jobsStarted, 1, "a full batch does not wait for the buffer timer");
    const buffered = [pool.verifySets(same.slice(0, 10)), pool.verifySet(distinct[0] as SignatureSetInput)];
    assert.equal(pool.stats().queuedSets, 11);

    const closing = pool.close();
    assert.equal(pool.close(), closing, "close() is idempotent");
    const outcomes = await withDeadline(Promise.allSettled([full, ...buffered]), 10_000, "pending promises");
    await withDeadline(closing, 10_000, "close()");

    for (const outcome of outcomes.slice(1)) {
      assert.equal(outcome.status, "rejected");
      assert.ok(isBlsVerifierError(outcome.reason, "closed"));
    }
    const first = outcomes[0];
    assert.ok(
      first?.status === "fulfilled" ? first.value.length === 64 : isBlsVerifierError(first?.reason, "closed"),
      "the in-flight batch either finished or was cancelled as closed",
    );
    const s = pool.stats();
    assert.equal(s.pendingSets, 0);
    assert.ok(s.dropped.closed >= 11);
    await assert.rejects(pool.verifySets(distinct.slice(0, 1)), { code: "closed" });
  });
});

describe("BlsVerifierPool with the validators' keys (sets name validators by index)", () => {
  const keys = sks.slice(0, 8).map((sk) => sk.toPublicKey());
  const vote = (i: number, seed: number): SignatureSetInput => {
    const message = new Uint8Array(32);
    new DataView(message.buffer).setUint32(0, seed);
    return { message, signature: (sks[i] as SecretKey).sign(message).toBytes(), validatorIndices: [i] };
  };
  let pool: BlsVerifierPool;
  before(async () => {
    pool = new BlsVerifierPool({ workers: 1, validatorKeys: keys, maxBatchSize: 8, maxBufferWaitMs: 1 });
    await pool.ready();
  });
  after(() => pool.close());

  it("the worker decodes each validator's key once across jobs; unknown indices are false", async () => {
    assert.equal(pool.validatorCount(), 8);
    for (let round = 0; round < 3; round++) {
      const sets = [0, 1, 2, 3, 0, 1].map((i, k) => vote(i, round * 10 + k));
      sets.push({ ...vote(4, 99), validatorIndices: [8] });
      assert.deepEqual(falseIndexes(await pool.verifySets(sets)), [6]);
    }
    const s = pool.stats();
    assert.equal(s.keysDecoded, 4, "validators 0-3, once each, in the one worker");
    assert.equal(s.setsMalformedShape, 3);
    assert.equal(s.setsValid, 18);
  });
});

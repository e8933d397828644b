// The validator routes cannot be used to hurt the node: a GET never moves the store, a token
// guards the routes when one is set, and a client past its share of verifications gets a 429.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { PublishResult } from "@metronome/api";
import {
  aggregateAttestations,
  Block,
  INTERVALS_PER_SLOT,
  interopSecretKey,
  SignedAttestation,
  signAttestation,
  toHex,
} from "@metronome/chain";
import { ClientLimiter } from "../../src/api/clientLimiter.ts";
import { ApiServerStats } from "../../src/api/serverLimits.ts";
import { type ValidatorBackend, validatorRoutesPlugin } from "../../src/api/validatorRoutes.ts";
import { makeChain, storeValidatorBackend, type TestChain, tickTo } from "./chainFixture.ts";
import { startTestServer, type TestServer, waitFor } from "./helpers.ts";

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A backend over a real store whose clock (currentSlot) may run ahead of the store's own time. */
function backendFor(
  chain: TestChain,
  opts: { clockSlot?: () => number; publish?: (n: number) => Promise<PublishResult[]> } = {},
): ValidatorBackend {
  const backend = storeValidatorBackend(chain);
  return {
    ...backend,
    currentSlot: opts.clockSlot ?? backend.currentSlot,
    publishAttestations: async (atts) => (opts.publish ? opts.publish(atts.length) : backend.publishAttestations(atts)),
  };
}

async function serve(backend: ValidatorBackend, options = {}): Promise<TestServer> {
  const server = await startTestServer([validatorRoutesPlugin(backend, options)]);
  servers.push(server);
  return server;
}

/** Everything a read must leave alone: the clock, both vote sets, head, safe target, checkpoints, pool. */
function storeSnapshot(chain: TestChain): unknown {
  const s = chain.store;
  const votes = (get: (i: number) => unknown) => [0, 1, 2, 3].map((i) => JSON.stringify(get(i) ?? null));
  return {
    time: s.time,
    newVotes: votes((i) => s.getNewVote(i)),
    knownVotes: votes((i) => s.getKnownVote(i)),
    newVoteCount: s.newVoteCount,
    knownVoteCount: s.knownVoteCount,
    head: toHex(s.head.root),
    safeTarget: toHex(s.safeTarget.root),
    justified: toHex(s.latestJustified.root),
    finalized: toHex(s.latestFinalized.root),
    pool: s.aggregatePool.values().length,
    blocks: s.blockCount,
  };
}

describe("validator API safety", () => {
  it("GET /lean/v0/validator/block leaves the store exactly as it was (time, votes, head)", async () => {
    const chain = makeChain();
    // Slot 1, interval 1: an aggregate in the pool and single votes still "new" (not yet counted).
    tickTo(chain, 1, 1);
    const data = chain.store.produceAttestationData(1);
    const votes = [0, 2, 3].map((i) => signAttestation(interopSecretKey(i), i, data, chain.domains));
    const [agg] = aggregateAttestations(votes);
    assert.ok(agg);
    chain.store.processGossipAggregate(agg);
    for (const v of votes) chain.store.processGossipAttestation(v);
    assert.ok(chain.store.newVoteCount > 0, "the fixture must hold uncounted votes");
    // The wall clock is already in slot 2; the store has not been ticked there yet.
    const server = await serve(backendFor(chain, { clockSlot: () => 2 }));
    const before = storeSnapshot(chain);

    const res = await fetch(`${server.base}/lean/v0/validator/block?slot=2&proposer_index=2`);
    const body = (await res.json()) as { data: { block: unknown } };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(storeSnapshot(chain), before, "a GET mutated the store");
    const block = Block.fromJson(body.data.block);
    assert.equal(block.body.attestations.length, 1, "the pool aggregate is in the block");

    // The block's parent is the head the store reaches once its own tick accepts the votes.
    chain.store.onTick(2 * INTERVALS_PER_SLOT, true);
    assert.equal(toHex(block.parentRoot), toHex(chain.store.head.root));
  });

  it("with a token, every validator route answers 401 without the right bearer token", async () => {
    const chain = makeChain();
    const stats = new ApiServerStats();
    const token = "a".repeat(40);
    const server = await serve(backendFor(chain), { token, stats });
    const url = `${server.base}/lean/v0/validator/duties?slot=0&indices=1`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${"b".repeat(40)}` } })).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
    const post = await fetch(`${server.base}/lean/v0/validator/attestation`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[]",
    });
    assert.equal(post.status, 401);
    assert.equal(stats.requestsRefused.unauthorized, 4);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
  });

  it("a client past its concurrent-verification limit gets 429 with Retry-After; its slots free up after", async () => {
    const chain = makeChain();
    tickTo(chain, 1, 1);
    const stats = new ApiServerStats();
    const gates: (() => void)[] = [];
    const backend = backendFor(chain, {
      publish: (n) =>
        new Promise((resolve) => gates.push(() => resolve(Array.from({ length: n }, () => ({ status: "imported" }))))),
    });
    const server = await serve(backend, { stats, limiter: new ClientLimiter({ perClient: 2, overall: 8 }) });
    const att = SignedAttestation.toJson(
      signAttestation(interopSecretKey(1), 1, chain.store.produceAttestationData(1), chain.domains),
    );
    const post = () =>
      fetch(`${server.base}/lean/v0/validator/attestation`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([att]),
      });
    const first = [post(), post()];
    await waitFor(() => gates.length === 2, "two requests in verification");
    const refused = await Promise.all([post(), post(), post()]);
    for (const res of refused) {
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "1");
    }
    assert.equal(stats.requestsRefused.rate_limited, 3);
    for (const open of gates.splice(0)) open();
    for (const res of await Promise.all(first)) assert.equal(res.status, 200);
    // The limiter released both slots when the responses closed.
    const again = post();
    await waitFor(() => gates.length === 1, "a new request admitted");
    gates[0]?.();
    assert.equal((await again).status, 200);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_CONCURRENT_BLOCKS_BY_ROOT } from "@metronome/chain";
import {
  BlockFetcher,
  type BlockFetcherOptions,
  DEDUP_OUTCOMES,
  type RequestBlocksByRoot,
} from "../../src/runtime/blockFetcher.ts";

function root(n: number): Uint8Array {
  const r = new Uint8Array(32);
  new DataView(r.buffer).setUint32(0, n);
  return r;
}

function idOf(r: Uint8Array): number {
  return new DataView(r.buffer, r.byteOffset).getUint32(0);
}

/** Deterministic PRNG (mulberry32) so weighted choices are reproducible. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets settled request promises run their continuations. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Deferred {
  peerId: string;
  roots: Uint8Array[];
  signal: AbortSignal;
  resolve: (received: Uint8Array[]) => void;
  reject: (err: Error) => void;
}

/** A request function whose calls stay pending until the test settles them. */
function manualRequests(): { request: RequestBlocksByRoot; calls: Deferred[] } {
  const calls: Deferred[] = [];
  const request: RequestBlocksByRoot = (peerId, roots, signal) =>
    new Promise<Uint8Array[]>((resolve, reject) => {
      calls.push({ peerId, roots, signal, resolve, reject });
      signal.addEventListener("abort", () => reject(signal.reason));
    });
  return { request, calls };
}

function makeFetcher(
  overrides: Partial<BlockFetcherOptions> & { request: RequestBlocksByRoot },
  clock = { t: 0 },
): BlockFetcher {
  return new BlockFetcher({
    now: () => clock.t,
    peers: () => ["p1"],
    isKnown: () => false,
    random: () => 0,
    ...overrides,
  });
}

function sumOutcomes(f: BlockFetcher): number {
  return DEDUP_OUTCOMES.reduce((s, o) => s + f.dedupOutcomes[o], 0);
}

describe("BlockFetcher", () => {
  it("1000 wanted roots never put more than 8 requests in flight, whatever request() does", async () => {
    const clock = { t: 0 };
    let concurrent = 0;
    let maxConcurrent = 0;
    let calls = 0;
    let wantCalls = 0;
    const fetched = new Set<number>();
    let fetcher: BlockFetcher | undefined;
    const request: RequestBlocksByRoot = (_peer, roots) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      const mode = calls++ % 4;
      const done = (): Uint8Array[] => {
        concurrent--;
        for (const r of roots) fetched.add(idOf(r));
        return roots;
      };
      if (mode === 0) {
        // Already resolved when returned; the fetcher only sees it settle on a microtask.
        const settled = Promise.resolve(roots);
        settled.then(done);
        return settled;
      }
      if (mode === 1) {
        concurrent--;
        throw new Error("synchronous failure");
      }
      if (mode === 2) {
        // Re-enters: the response reveals more unknown roots, and the node ticks again.
        for (const r of roots) {
          fetcher?.want(root(idOf(r) + 10_000), "unknown_parent");
          wantCalls++;
        }
        fetcher?.tick();
      }
      return new Promise((resolve) => setImmediate(() => resolve(done())));
    };
    fetcher = makeFetcher(
      { request, peers: () => ["a", "b", "c"], maxInFlight: 8, maxRootsPerRequest: 16, backoffBaseMs: 10 },
      clock,
    );
    for (let i = 0; i < 1000; i++) {
      fetcher.want(root(i), i % 2 ? "unknown_parent" : "unknown_attestation_block");
      wantCalls++;
    }
    for (let round = 0; round < 500 && fetcher.wantedCount > 0; round++) {
      fetcher.tick();
      assert.ok(fetcher.inFlight <= 8);
      await flush();
      clock.t += 50;
    }
    assert.equal(fetcher.wantedCount, 0);
    assert.ok(maxConcurrent <= 8, `max concurrent ${maxConcurrent}`);
    assert.equal(maxConcurrent, 8); // the cap was actually reached
    assert.equal(fetcher.maxInFlightSeen, 8);
    for (let i = 0; i < 1000; i++) assert.ok(fetched.has(i), `root ${i} fetched`);
    assert.ok(fetcher.requestOutcomes.error > 0);
    assert.equal(sumOutcomes(fetcher), wantCalls);
    assert.equal(fetcher.inFlight, 0);
  });

  it("without maxInFlight (as the node builds it) the cap is the protocol's 8: the 9th request waits", async () => {
    assert.equal(MAX_CONCURRENT_BLOCKS_BY_ROOT, 8, "PROTOCOL.md section 6: at most 8 BlocksByRoot requests in flight");
    const { request, calls } = manualRequests();
    // peers/roots per request chosen so every wanted root needs its own request.
    const f = makeFetcher({ request, peers: () => ["a", "b", "c"], maxRootsPerRequest: 1 });
    assert.equal(f.maxInFlight, MAX_CONCURRENT_BLOCKS_BY_ROOT);
    for (let i = 0; i < 12; i++) f.want(root(i), "unknown_parent");
    f.tick();
    assert.equal(calls.length, 8, "8 requests issued, not more");
    assert.equal(f.inFlight, 8);
    assert.equal(f.want(root(99), "unknown_parent"), "inflight_cap", "a 9th is refused while 8 are out");
    calls[0]?.resolve([root(0)]);
    await flush();
    f.tick();
    assert.equal(calls.length, 9, "a freed slot is used at once");
    assert.equal(f.maxInFlightSeen, 8);
    for (const c of calls.slice(1)) c.resolve(c.roots);
    await flush();
  });

  it("refuses a request over the in-flight cap at once, counts inflight_cap, and retries when a slot frees", async () => {
    const { request, calls } = manualRequests();
    const f = makeFetcher({ request, maxInFlight: 2, maxRootsPerRequest: 1 });
    assert.equal(f.want(root(1), "unknown_parent"), "queued");
    assert.equal(f.want(root(2), "unknown_parent"), "queued");
    assert.equal(f.want(root(3), "unknown_parent"), "queued");
    f.tick();
    assert.equal(calls.length, 2);
    assert.equal(f.inFlight, 2);
    assert.equal(f.requestRefusals.inflight_cap, 1);
    // A new root while every slot is busy is refused on the spot but stays wanted.
    assert.equal(f.want(root(4), "unknown_attestation_block"), "inflight_cap");
    assert.equal(f.dedupOutcomes.inflight_cap, 1);
    assert.equal(f.wantedCount, 4);
    f.tick();
    assert.equal(calls.length, 2);
    assert.equal(f.requestRefusals.inflight_cap, 2);
    calls[0]?.resolve([root(1)]);
    await flush();
    assert.equal(f.inFlight, 1);
    f.tick();
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[2]?.roots.map(idOf), [3]);
    assert.equal(f.inFlight, 2);
  });

  it("dedups: known, already_wanted, in_flight, invalid, and stopped outcomes", () => {
    const { request, calls } = manualRequests();
    const known = new Set([7]);
    const f = makeFetcher({ request, isKnown: (r) => known.has(idOf(r)), maxRootsPerRequest: 1, maxInFlight: 1 });
    assert.equal(f.want(root(7), "unknown_parent"), "known");
    assert.equal(f.want(root(1), "unknown_parent"), "queued");
    assert.equal(f.want(root(1), "unknown_attestation_block"), "already_wanted");
    assert.equal(f.want(root(2), "unknown_attestation_block"), "queued");
    f.tick();
    assert.equal(calls.length, 1);
    assert.equal(f.want(root(1), "unknown_parent"), "in_flight");
    assert.equal(f.want(root(2), "unknown_parent"), "already_wanted");
    assert.equal(f.want(new Uint8Array(31), "unknown_parent"), "invalid");
    assert.equal(f.want(root(3), "bogus" as unknown as "unknown_parent"), "invalid");
    // A wanted root that got imported behind our back is "known" and leaves the wanted set.
    known.add(2);
    assert.equal(f.want(root(2), "unknown_parent"), "known");
    assert.equal(f.isWanted(root(2)), false);
    f.stop();
    assert.equal(f.want(root(9), "unknown_parent"), "stopped");
    assert.deepEqual(f.dedupOutcomes, {
      queued: 2,
      inflight_cap: 0,
      known: 2,
      already_wanted: 2,
      in_flight: 1,
      invalid: 2,
      stopped: 1,
    });
    assert.equal(sumOutcomes(f), 10);
  });

  it("a timed-out request frees its slot, aborts its signal, and its root is retried after backoff", async () => {
    const clock = { t: 0 };
    const { request, calls } = manualRequests();
    const f = makeFetcher(
      { request, requestTimeoutMs: 1000, backoffBaseMs: 400, maxInFlight: 1, random: () => 0 },
      clock,
    );
    f.want(root(1), "unknown_parent");
    f.tick();
    assert.equal(calls.length, 1);
    clock.t = 999;
    f.tick();
    assert.equal(f.inFlight, 1);
    assert.equal(calls[0]?.signal.aborted, false);
    clock.t = 1000;
    f.tick();
    assert.equal(calls[0]?.signal.aborted, true);
    assert.equal(f.inFlight, 0);
    assert.equal(f.requestOutcomes.timeout, 1);
    assert.equal(f.isWanted(root(1)), true);
    assert.equal(calls.length, 1); // backing off: with random()=0 the delay is 400/2 = 200 ms
    clock.t = 1199;
    f.tick();
    assert.equal(calls.length, 1);
    clock.t = 1200;
    f.tick();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]?.roots.map(idOf), [1]);
    await flush(); // the aborted first request's rejection is ignored
    assert.equal(f.inFlight, 1);
    assert.equal(f.requestOutcomes.error, 0);
    assert.ok(f.peerPenalty("p1") > 0);
  });

  it("roots the peer did not return stay wanted with backoff, and are dropped after maxAttempts", async () => {
    const clock = { t: 0 };
    const { request, calls } = manualRequests();
    const f = makeFetcher({ request, backoffBaseMs: 100, backoffMaxMs: 100, maxAttempts: 2, random: () => 0 }, clock);
    f.want(root(1), "unknown_parent");
    f.want(root(2), "unknown_parent");
    f.tick();
    calls[0]?.resolve([root(1), root(99)]); // 99 was never asked for: ignored
    await flush();
    assert.equal(f.requestOutcomes.partial, 1);
    assert.equal(f.isWanted(root(1)), false);
    assert.equal(f.wantedResolved.received, 1);
    assert.equal(f.isWanted(root(2)), true);
    f.tick();
    assert.equal(calls.length, 1);
    clock.t = 50;
    f.tick();
    assert.deepEqual(calls[1]?.roots.map(idOf), [2]);
    calls[1]?.resolve([]);
    await flush();
    assert.equal(f.requestOutcomes.empty, 1);
    assert.equal(f.isWanted(root(2)), false);
    assert.equal(f.wantedDropped.attempts_exhausted, 1);
    assert.equal(f.peerPenalty("p1"), 0); // missing roots are not the peer's fault
  });

  it("chooses a failing peer less often than a healthy one, and forgives it over time", async () => {
    const clock = { t: 0 };
    const asked = { bad: 0, good: 0 };
    const request: RequestBlocksByRoot = (peerId, roots) => {
      if (peerId === "bad") {
        asked.bad++;
        return Promise.reject(new Error("stream reset"));
      }
      asked.good++;
      return Promise.resolve(roots);
    };
    const f = makeFetcher(
      {
        request,
        peers: () => ["bad", "good"],
        random: seededRandom(42),
        maxRootsPerRequest: 1,
        backoffBaseMs: 1,
        peerPenaltyHalfLifeMs: 60_000,
      },
      clock,
    );
    for (let i = 0; i < 200; i++) {
      f.want(root(i), "unknown_attestation_block");
      f.tick();
      await flush();
      clock.t += 10;
    }
    for (let i = 0; i < 20 && f.wantedCount > 0; i++) {
      f.tick();
      await flush();
      clock.t += 10;
    }
    assert.equal(f.wantedCount, 0); // every root eventually came from the healthy peer
    assert.ok(asked.bad > 0, "the failing peer is still tried sometimes");
    assert.ok(asked.bad * 5 < asked.good, `bad=${asked.bad} good=${asked.good}`);
    const penalty = f.peerPenalty("bad");
    assert.ok(penalty > 1);
    clock.t += 600_000; // ten half-lives
    assert.ok(f.peerPenalty("bad") < penalty / 500);
  });

  it("no longer requests roots that were imported, or that became known before the request", () => {
    const { request, calls } = manualRequests();
    const known = new Set<number>();
    const f = makeFetcher({ request, isKnown: (r) => known.has(idOf(r)) });
    for (const i of [1, 2, 3]) f.want(root(i), "unknown_parent");
    f.onBlockImported(root(1));
    known.add(3);
    f.tick();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.roots.map(idOf), [2]);
    assert.equal(f.wantedResolved.imported, 1);
    assert.equal(f.wantedResolved.known, 1);
    // Imported while in flight: it leaves the wanted set, and a failing response does not revive it.
    f.onBlockImported(root(2));
    assert.equal(f.wantedCount, 0);
    f.onBlockImported(new Uint8Array(5)); // malformed: ignored
    assert.equal(f.wantedResolved.imported, 2);
  });

  it("caps the wanted set by evicting the oldest root not in flight, and counts it", () => {
    const { request, calls } = manualRequests();
    const f = makeFetcher({ request, maxWanted: 3, maxInFlight: 1, maxRootsPerRequest: 1 });
    f.want(root(1), "unknown_parent");
    f.tick(); // root 1 is in flight, so it is skipped by eviction
    assert.equal(calls.length, 1);
    f.want(root(2), "unknown_parent");
    f.want(root(3), "unknown_parent");
    assert.equal(f.wantedCount, 3);
    f.want(root(4), "unknown_parent");
    assert.equal(f.wantedCount, 3);
    assert.equal(f.wantedDropped.wanted_cap, 1);
    assert.equal(f.isWanted(root(1)), true);
    assert.equal(f.isWanted(root(2)), false);
    f.want(root(5), "unknown_parent");
    assert.equal(f.isWanted(root(3)), false);
    assert.equal(f.wantedDropped.wanted_cap, 2);
    // An evicted root can be wanted again.
    assert.equal(f.want(root(2), "unknown_parent"), "inflight_cap");
    assert.equal(f.isWanted(root(4)), false);
  });

  it("asks for unknown parents before attestation-referenced blocks, batching up to maxRootsPerRequest", () => {
    const { request, calls } = manualRequests();
    const f = makeFetcher({ request, maxInFlight: 1, maxRootsPerRequest: 3 });
    for (let i = 0; i < 4; i++) f.want(root(i), "unknown_attestation_block");
    f.want(root(10), "unknown_parent");
    f.want(root(2), "unknown_parent"); // upgrades root 2's reason
    f.tick();
    assert.deepEqual(calls[0]?.roots.map(idOf), [2, 10, 0]);
    assert.equal(f.rootsRequested, 3);
  });

  it("counts no_peer while nobody is connected and requests once a peer appears", () => {
    const { request, calls } = manualRequests();
    let peers: string[] = [];
    const f = makeFetcher({ request, peers: () => peers });
    f.want(root(1), "unknown_parent");
    f.tick();
    f.tick();
    assert.equal(f.requestRefusals.no_peer, 2);
    assert.equal(calls.length, 0);
    peers = ["p9"];
    f.tick();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.peerId, "p9");
  });

  it("stop() aborts every in-flight request and ignores their late answers", async () => {
    const { request, calls } = manualRequests();
    const f = makeFetcher({ request, maxRootsPerRequest: 1 });
    for (const i of [1, 2, 3]) f.want(root(i), "unknown_parent");
    f.tick();
    assert.equal(f.inFlight, 3);
    f.stop();
    assert.ok(calls.every((c) => c.signal.aborted));
    assert.equal(f.inFlight, 0);
    assert.equal(f.wantedCount, 0);
    assert.equal(f.requestOutcomes.aborted, 3);
    await flush();
    assert.equal(f.requestOutcomes.error, 0);
    f.want(root(4), "unknown_parent");
    f.tick();
    assert.equal(calls.length, 3);
    const s = f.stats();
    assert.equal(s.inFlight, 0);
    assert.equal(s.maxInFlightSeen, 3);
    assert.equal(s.requestsIssued, 3);
  });

  it("a late answer after a timeout still resolves the roots it carries", async () => {
    const clock = { t: 0 };
    const pending: Array<(r: Uint8Array[]) => void> = [];
    // This peer ignores the abort signal and answers late.
    const request: RequestBlocksByRoot = () => new Promise((resolve) => pending.push(resolve));
    const f = makeFetcher({ request, requestTimeoutMs: 100, backoffBaseMs: 1000 }, clock);
    f.want(root(1), "unknown_parent");
    f.tick();
    clock.t = 100;
    f.tick();
    assert.equal(f.requestOutcomes.timeout, 1);
    pending[0]?.([root(1)]);
    await flush();
    assert.equal(f.lateResponses, 1);
    assert.equal(f.isWanted(root(1)), false);
    assert.equal(f.wantedResolved.received, 1);
  });

  it("rejects nonsensical options", () => {
    const { request } = manualRequests();
    assert.throws(() => makeFetcher({ request, maxInFlight: 0 }), RangeError);
    assert.throws(() => makeFetcher({ request, maxRootsPerRequest: 2.5 }), RangeError);
    assert.throws(() => makeFetcher({ request, requestTimeoutMs: -1 }), RangeError);
    assert.throws(() => makeFetcher({ request, peerPenaltyHalfLifeMs: 0 }), RangeError);
  });
});

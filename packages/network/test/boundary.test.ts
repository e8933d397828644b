// The thread boundary between the driver and the network worker, without threads: the outbox's
// caps in count and bytes and its drop counters, batching per loop turn, the verdict deadline,
// the inbox's dispatch and verdict batching, and the typed messages surviving a real
// structured-clone round trip (MessageChannel) with their BitArrays revived.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { SignedAggregatedAttestation, SignedAttestation, SignedBlock } from "@metronome/chain";
import { GossipInbox } from "../src/boundary/gossipInbox.ts";
import {
  boundaryDrops,
  boundaryShedTotal,
  GossipOutbox,
  MAX_GOSSIP_HOLD_MS,
  MAX_GOSSIP_HOLDS,
} from "../src/boundary/gossipOutbox.ts";
import type { FromWorker, GossipWorkItem, ToWorker } from "../src/boundary/messages.ts";
import { reviveBlocks, reviveGossipValue } from "../src/boundary/revive.ts";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";
import type { GossipVerdict } from "../src/gossip/router.ts";
import { pinListenPorts } from "../src/worker/listenPorts.ts";
import { WorkerCalls } from "../src/worker/workerCalls.ts";
import { WorkerStatsCache } from "../src/worker/workerStats.ts";
import { sampleAggregate, sampleAttestation, sampleBlock, TEST_FORK_DIGEST } from "./fixtures.ts";

/** A scheduler the test runs by hand: nothing is flushed until `run()`. */
function manualScheduler() {
  const queued: (() => void)[] = [];
  return {
    schedule: (fn: () => void) => queued.push(fn),
    run: () => {
      for (const fn of queued.splice(0)) fn();
    },
  };
}

const vote = (i: number, bytes = 100) =>
  ({ kind: "attestation", value: sampleAttestation(i), peer: "p", subnet: 0, bytes }) as const;

function outbox(opts: Partial<ConstructorParameters<typeof GossipOutbox>[0]> = {}) {
  const posted: GossipWorkItem[][] = [];
  const sched = manualScheduler();
  let now = 1_000;
  const box = new GossipOutbox({
    post: (items) => posted.push(items),
    schedule: sched.schedule,
    now: () => now,
    ...opts,
  });
  return {
    box,
    posted,
    sched,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("GossipOutbox (worker side)", () => {
  it("batches every message of a loop turn into one post, and posts a full batch at once", () => {
    const { box, posted, sched } = outbox({ maxBatchItems: 4 });
    for (let i = 0; i < 6; i++) void box.offer(vote(i));
    assert.equal(posted.length, 1, "the 4th message filled a batch: posted without waiting for the turn");
    assert.equal(posted[0]?.length, 4);
    sched.run();
    assert.equal(posted.length, 2);
    assert.deepEqual(
      posted.flat().map((item) => item.id),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(box.stats().batches, 2);
  });

  it("a vote it takes is posted packed (roots and signature in one buffer); one it drops is left as it was", () => {
    const { box, posted, sched } = outbox({ limits: { attestation: { items: 1, bytes: 1 << 20 } } });
    const taken = vote(1);
    const dropped = vote(2);
    const droppedRoot = dropped.value.data.head.root;
    void box.offer(taken);
    assert.equal(box.offer(dropped), "ignore");
    sched.run();
    const sent = posted.flat()[0]?.value as SignedAttestation;
    const { head, target, source } = sent.data;
    assert.equal(new Set([head.root, target.root, source.root, sent.signature].map((b) => b.buffer)).size, 1);
    assert.equal(dropped.value.data.head.root, droppedRoot, "no work for a message the boundary drops");
  });

  it("a batch is also posted at once when it reaches the byte bound", () => {
    const { box, posted } = outbox({ maxBatchBytes: 1_000 });
    void box.offer(vote(1, 600));
    assert.equal(posted.length, 0);
    void box.offer(vote(2, 600));
    assert.equal(posted.length, 1);
  });

  it("holds at most its cap of unanswered items per kind; the rest are IGNOREd and counted", async () => {
    const { box, sched } = outbox({ limits: { attestation: { items: 3, bytes: 1 << 20 } } });
    const verdicts = [0, 1, 2, 3, 4].map((i) => box.offer(vote(i)));
    assert.equal(verdicts[3], "ignore");
    assert.equal(verdicts[4], "ignore");
    assert.equal(box.stats().droppedCount.attestation, 2);
    assert.equal(box.stats().pendingItems, 3);
    // Another kind has its own cap: a vote flood does not push a block out.
    const block = box.offer({ kind: "block", value: sampleBlock(1), peer: "p", subnet: 0, bytes: 200 });
    assert.ok(block instanceof Promise);
    sched.run();
    // An answer frees room.
    box.onVerdicts([1], ["accept"]);
    assert.equal(await verdicts[0], "accept");
    assert.ok(box.offer(vote(9)) instanceof Promise);
  });

  it("holds at most its cap of unanswered bytes per kind", () => {
    const { box } = outbox({ limits: { attestation: { items: 100, bytes: 1_000 } } });
    assert.ok(box.offer(vote(1, 600)) instanceof Promise);
    assert.equal(box.offer(vote(2, 600)), "ignore");
    assert.ok(box.offer(vote(3, 400)) instanceof Promise, "what still fits is taken");
    assert.equal(box.stats().droppedBytes.attestation, 1);
    assert.equal(box.stats().pendingBytes, 1_000);
  });

  it("a verdict not back by the deadline is IGNOREd and counted; a late one is dropped and counted", async () => {
    const { box, sched, advance } = outbox({ verdictDeadlineMs: 3_000 });
    const first = box.offer(vote(1));
    advance(2_000);
    const second = box.offer(vote(2));
    sched.run();
    advance(1_000);
    assert.equal(box.expire(), 1, "only the first has reached its deadline");
    assert.equal(await first, "ignore");
    assert.equal(box.stats().verdictTimeouts.attestation, 1);
    box.onVerdicts([1, 2], ["accept", "reject"]);
    assert.equal(await second, "reject");
    assert.equal(box.stats().lateVerdicts, 1);
    assert.equal(box.stats().pendingItems, 0);
  });

  it("a held peer's messages of that kind are IGNOREd before they cross, counted, until the hold ends", () => {
    const { box, posted, sched, advance } = outbox();
    const from = (peer: string, i: number) => ({ ...vote(i), peer });
    box.hold("attestation", "flooder", 250);
    assert.equal(box.offer(from("flooder", 1)), "ignore");
    assert.ok(box.offer(from("honest", 2)) instanceof Promise, "another peer is not held");
    const aggregate = box.offer({
      kind: "aggregation",
      value: sampleAggregate(),
      peer: "flooder",
      subnet: 0,
      bytes: 300,
    });
    assert.ok(aggregate instanceof Promise, "nor is the held peer's other kind");
    sched.run();
    assert.deepEqual(
      posted.flat().map((item) => item.peer),
      ["honest", "flooder"],
      "the held vote never crossed",
    );
    assert.equal(box.stats().droppedHeld.attestation, 1);
    assert.equal(boundaryDrops(box.stats()).peer_held, 1);
    assert.equal(box.stats().droppedCount.attestation, 0, "a hold is not an overload");
    advance(249);
    assert.equal(box.offer(from("flooder", 4)), "ignore");
    advance(1);
    assert.ok(box.offer(from("flooder", 5)) instanceof Promise, "the hold has ended");
    assert.equal(box.holdCount(), 0);
  });

  it("admit() refuses, before decoding, exactly what offer() would drop now, counted under offer's reason", () => {
    const { box } = outbox({
      limits: { attestation: { items: 2, bytes: 1_000 }, aggregation: { items: 10, bytes: 250 } },
    });
    assert.equal(box.admit("attestation", "p"), true, "an empty channel takes a message");
    void box.offer(vote(1));
    void box.offer(vote(2));
    assert.equal(box.admit("attestation", "p"), false, "the channel holds its cap of items");
    assert.equal(box.admit("block", "p"), true, "another kind's channel has room");
    void box.offer({ kind: "aggregation", value: sampleAggregate(), peer: "p", subnet: 0, bytes: 250 });
    assert.equal(box.admit("aggregation", "p"), false, "no byte left in the aggregation channel");
    box.hold("block", "flooder", 250);
    assert.equal(box.admit("block", "flooder"), false, "a held sender");
    assert.equal(box.admit("block", "honest"), true);
    const stats = box.stats();
    assert.deepEqual(stats.refusedBeforeDecode, { block: 1, attestation: 1, aggregation: 1 });
    assert.equal(stats.droppedCount.attestation, 1, "a refusal is a drop for its reason, once");
    assert.equal(stats.droppedBytes.aggregation, 1);
    assert.equal(stats.droppedHeld.block, 1);
    assert.equal(stats.pendingItems, 3, "admit() queues nothing");
    assert.equal(boundaryShedTotal(stats), 3, "everything shed, whatever the reason");
  });

  it("a hold is never longer than MAX_GOSSIP_HOLD_MS, and the holds kept are capped", () => {
    const { box, advance } = outbox();
    box.hold("attestation", "p", 60_000);
    advance(MAX_GOSSIP_HOLD_MS);
    assert.ok(box.offer(vote(1)) instanceof Promise, "a minute asked for is held two seconds at most");
    for (let i = 0; i < MAX_GOSSIP_HOLDS + 10; i++) box.hold("aggregation", `peer-${i}`, 1_000 + i);
    assert.equal(box.holdCount(), MAX_GOSSIP_HOLDS);
    const held = (peer: string) =>
      box.offer({ kind: "aggregation", value: sampleAggregate(), peer, subnet: 0, bytes: 300 }) === "ignore";
    assert.ok(!held("peer-0"), "the hold that ended soonest made room");
    assert.ok(held(`peer-${MAX_GOSSIP_HOLDS + 9}`), "the newest is kept");
    box.hold("attestation", "q", 0);
    assert.ok(box.offer({ ...vote(2), peer: "q" }) instanceof Promise, "a hold of 0 ms holds nothing");
  });

  it("close() IGNOREs everything still waiting", async () => {
    const { box } = outbox();
    const v = box.offer(vote(1));
    box.close();
    assert.equal(await v, "ignore");
    assert.equal(box.stats().pendingItems, 0);
  });
});

describe("GossipInbox (driver side)", () => {
  function inbox() {
    const posts: { ids: number[]; verdicts: GossipVerdict[] }[] = [];
    const sched = manualScheduler();
    const box = new GossipInbox({
      forkDigest: TEST_FORK_DIGEST,
      postVerdicts: (ids, verdicts) => posts.push({ ids, verdicts }),
      schedule: sched.schedule,
    });
    return { box, posts, sched };
  }

  it("hands each item to its kind's handler and sends the verdicts back in one batch", async () => {
    const { box, posts, sched } = inbox();
    const seen: string[] = [];
    box.setHandler("attestation", (att, info) => {
      seen.push(`${att.validatorIndex}@${info.topic.kind === "attestation" ? info.topic.subnet : -1}`);
      return att.validatorIndex === 2 ? "reject" : "accept";
    });
    box.setHandler("aggregation", async (): Promise<GossipVerdict> => "ignore");
    box.setHandler("block", () => {
      throw new Error("handler bug");
    });
    box.receive([
      { id: 1, ...vote(1), subnet: 1 },
      { id: 2, ...vote(2) },
      { id: 3, kind: "aggregation", value: sampleAggregate(), peer: "p", subnet: 0, bytes: 10 },
      { id: 4, kind: "block", value: sampleBlock(2), peer: "p", subnet: 0, bytes: 10 },
    ]);
    await Promise.resolve();
    sched.run();
    assert.deepEqual(seen, ["1@1", "2@0"]);
    assert.equal(posts.length, 1, "one post for the whole turn");
    const byId = Object.fromEntries(posts[0]?.ids.map((id, i) => [id, posts[0]?.verdicts[i]]) ?? []);
    assert.deepEqual(byId, { 1: "accept", 2: "reject", 3: "ignore", 4: "ignore" });
    assert.equal(box.handlerErrors, 1);
    assert.deepEqual(box.kinds(), ["block", "attestation", "aggregation"]);
  });

  it("a kind without a handler is IGNOREd", () => {
    const { box, posts, sched } = inbox();
    box.receive([{ id: 7, ...vote(1) }]);
    sched.run();
    assert.deepEqual(posts, [{ ids: [7], verdicts: ["ignore"] }]);
  });
});

describe("typed messages across a real MessageChannel", () => {
  function roundTrip<T>(message: T): T {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(message);
    const got = receiveMessageOnPort(port2)?.message as T;
    port1.close();
    return got;
  }

  it("gossip items of every kind come back equal, with working BitArrays once revived", () => {
    const block = sampleBlock(5);
    block.block.body.attestations.push({
      aggregationBits: sampleAggregate().aggregationBits,
      data: sampleAggregate().data,
    });
    const message: FromWorker = {
      type: "gossip",
      items: [
        { id: 1, ...vote(3) },
        { id: 2, kind: "aggregation", value: sampleAggregate(), peer: "p", subnet: 0, bytes: 1 },
        { id: 3, kind: "block", value: block, peer: "p", subnet: 0, bytes: 1 },
      ],
    };
    const got = roundTrip(message);
    assert.equal(got.type, "gossip");
    if (got.type !== "gossip") return;
    const [a, g, b] = got.items.map((item) => reviveGossipValue(item.kind, item.value));
    assert.ok(SignedAttestation.equals(a as SignedAttestation, sampleAttestation(3)));
    const agg = g as SignedAggregatedAttestation;
    assert.deepEqual(agg.aggregationBits.getTrueBitIndexes(), [0, 2]);
    assert.ok(SignedAggregatedAttestation.equals(agg, sampleAggregate()));
    const blk = b as SignedBlock;
    assert.deepEqual(blk.block.body.attestations[0]?.aggregationBits.getTrueBitIndexes(), [0, 2]);
    assert.deepEqual(SignedBlock.serialize(blk), SignedBlock.serialize(block));
  });

  it("calls, served blocks and errors round-trip as their union members", () => {
    const call: ToWorker = { type: "call", id: 9, call: { op: "blocksByRange", peer: "p", startSlot: 2, count: 3 } };
    assert.deepEqual(roundTrip(call), call);
    const served = roundTrip<ToWorker>({
      type: "served",
      id: 4,
      method: "blocksByRoot",
      ok: true,
      value: [sampleBlock(3)],
    });
    assert.ok(served.type === "served" && served.ok && served.method === "blocksByRoot");
    if (served.type === "served" && served.ok && served.method === "blocksByRoot") {
      assert.ok(SignedBlock.equals(reviveBlocks(served.value)[0] as SignedBlock, sampleBlock(3)));
    }
    const failed = roundTrip<FromWorker>({
      type: "result",
      id: 1,
      op: "status",
      ok: false,
      error: { code: NetworkErrorCode.DIAL_FAILED, message: "DIAL_FAILED: no route" },
    });
    const calls = new WorkerCalls();
    const pending = calls.call(() => {}, { op: "status", peer: "p" });
    if (failed.type === "result" && !failed.ok) calls.reject(1, failed.error);
    return assert.rejects(
      pending,
      (err) => isNetworkError(err, NetworkErrorCode.DIAL_FAILED) && err.message === "DIAL_FAILED: no route",
    );
  });
});

describe("WorkerCalls, WorkerStatsCache and pinned listen ports", () => {
  it("calls fail with NOT_STARTED while no worker runs and when it dies under them", async () => {
    const calls = new WorkerCalls();
    await assert.rejects(calls.call(null, { op: "stop" }), (err) => isNetworkError(err, NetworkErrorCode.NOT_STARTED));
    const sent: ToWorker[] = [];
    const pending = calls.call((m) => sent.push(m), {
      op: "publishAttestation",
      subnet: 0,
      attestation: sampleAttestation(1),
    });
    assert.equal(sent.length, 1);
    calls.failAll("network worker exited");
    await assert.rejects(pending, (err) => isNetworkError(err, NetworkErrorCode.NOT_STARTED));
  });

  it("counters stay monotonic across a worker's death; gauges and the mesh go to 0", () => {
    const cache = new WorkerStatsCache();
    const snapshot = (accepted: number, banned: number) => {
      const labelled = cache.labelled();
      labelled.gossipVerdicts.block.accept = accepted;
      const stats = { ...cache.stats(), gossip_accepted: accepted };
      return {
        stats,
        labelled,
        gossipSizes: { block: [100], attestation: [], aggregation: [] },
        peerScores: { ...cache.peerScores(), bannedNow: banned, refusedConnections: accepted },
        scoreSamples: [1, 2],
        peers: [],
        meshPeerCount: 3,
        boundary: { ...cache.boundary(), verdictTimeouts: { block: 0, attestation: accepted, aggregation: 0 } },
        memory: {
          responseBudget: { ...cache.memoryStats().responseBudget, inFlightBytes: accepted },
          heap: { usedBytes: 10, totalBytes: 20, externalBytes: 5, limitBytes: 40 },
          gossipOutbound: { bufferedBytes: 0, maxPeerBufferedBytes: 0 },
        },
      };
    };
    cache.update(snapshot(5, 2));
    cache.fold();
    assert.equal(cache.meshPeerCount(), 0);
    assert.equal(cache.peerScores().bannedNow, 0);
    assert.equal(cache.memoryStats().responseBudget.inFlightBytes, 0);
    assert.equal(cache.memoryStats().heap.totalBytes, 0);
    cache.update(snapshot(1, 1));
    assert.equal(cache.memoryStats().responseBudget.inFlightBytes, 1);
    assert.equal(cache.stats().gossip_accepted, 6);
    assert.equal(cache.labelled().gossipVerdicts.block.accept, 6);
    assert.equal(cache.peerScores().refusedConnections, 6);
    assert.equal(cache.peerScores().bannedNow, 1);
    assert.equal(cache.stats().gossip_verdict_timeouts, 6);
    assert.deepEqual(cache.drainGossipSizes().block, [100, 100]);
    assert.deepEqual(cache.drainGossipSizes().block, []);
    assert.deepEqual(cache.drainScoreSamples(), [1, 2, 1, 2]);
  });

  it("a listen address on port 0 is pinned to the port the first worker got", () => {
    assert.deepEqual(pinListenPorts(["/ip4/127.0.0.1/tcp/0"], ["/ip4/127.0.0.1/tcp/40123/p2p/x"]), [
      "/ip4/127.0.0.1/tcp/40123",
    ]);
    assert.deepEqual(pinListenPorts(["/ip4/0.0.0.0/tcp/0"], ["/ip4/10.0.0.2/tcp/9001"]), ["/ip4/0.0.0.0/tcp/9001"]);
    assert.deepEqual(pinListenPorts(["/ip4/127.0.0.1/tcp/9000"], ["/ip4/127.0.0.1/tcp/9000"]), [
      "/ip4/127.0.0.1/tcp/9000",
    ]);
    assert.equal(pinListenPorts(undefined, []), undefined);
  });
});

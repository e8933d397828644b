// Refusing gossip as its RPC arrives (rpcAdmission.ts): which messages of an RPC go on to gossipsub,
// the IWANT exemption and its bounds, and the hook on a real gossipsub (a library upgrade that moves
// the internals fails here instead of silently decoding everything again).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { admittedMessages, installRpcAdmission, MAX_IWANT_PEERS, RpcAdmission } from "../src/gossip/rpcAdmission.ts";
import {
  aggregationTopic,
  attestationTopic,
  blockTopic,
  type GossipKind,
  gossipTopicName,
} from "../src/gossip/topics.ts";
import { TEST_FORK_DIGEST } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

const block = gossipTopicName(blockTopic(TEST_FORK_DIGEST));
const aggregation = gossipTopicName(aggregationTopic(TEST_FORK_DIGEST));
const vote = gossipTopicName(attestationTopic(TEST_FORK_DIGEST, 0));
const msg = (topic: string, n: number) => ({ topic, n });

describe("admittedMessages", () => {
  it("keeps the admitted messages in order and the same array when all are admitted", () => {
    const rpc = [msg(block, 1), msg(aggregation, 2), msg(vote, 3), msg(aggregation, 4), msg("/other/topic", 5)];
    const kindOf = (topic: string): GossipKind | null =>
      topic === block ? "block" : topic === aggregation ? "aggregation" : topic === vote ? "attestation" : null;
    const asked: string[] = [];
    const kept = admittedMessages(rpc, "flooder", kindOf, (kind, peer) => {
      asked.push(`${kind}/${peer}`);
      return kind !== "aggregation";
    });
    assert.deepEqual(
      kept.map((m) => m.n),
      [1, 3, 5],
      "aggregates refused; a topic that is not the node's is left to gossipsub",
    );
    assert.deepEqual(asked, ["block/flooder", "aggregation/flooder", "attestation/flooder", "aggregation/flooder"]);
    assert.equal(
      admittedMessages(rpc, "p", kindOf, () => true),
      rpc,
      "nothing copied when nothing is refused",
    );
  });
});

describe("RpcAdmission", () => {
  it("admits everything until it is given a check", () => {
    const admission = new RpcAdmission(3_000);
    const rpc = [msg(aggregation, 1)];
    assert.equal(admission.filter("p", rpc), rpc);
    admission.admit = () => false;
    assert.deepEqual(admission.filter("p", rpc), []);
    assert.deepEqual(admission.filter("p", [msg("/not/ours", 2)]), [msg("/not/ours", 2)]);
  });

  it("a peer we sent an IWANT to is admitted for the follow-up window, then refused again", () => {
    let now = 10_000;
    const admission = new RpcAdmission(3_000, () => now);
    admission.admit = () => false;
    const rpc = [msg(vote, 1)];
    admission.iwantSent("honest");
    assert.equal(admission.filter("honest", rpc), rpc, "it may be answering our IWANT");
    assert.deepEqual(admission.filter("flooder", rpc), [], "another peer is refused");
    now += 2_999;
    assert.equal(admission.filter("honest", rpc), rpc);
    now += 1;
    assert.deepEqual(admission.filter("honest", rpc), [], "the follow-up window is over");
    assert.equal(admission.iwantPeers, 0, "its entry is forgotten");
  });

  it("remembers at most MAX_IWANT_PEERS peers: expired ones go first, then the oldest", () => {
    let now = 0;
    const admission = new RpcAdmission(3_000, () => now);
    admission.admit = () => false;
    for (let i = 0; i < MAX_IWANT_PEERS; i++) admission.iwantSent(`old${i}`);
    now += 1_000;
    admission.iwantSent("fresh");
    assert.equal(admission.iwantPeers, MAX_IWANT_PEERS, "the oldest live entry made room");
    assert.deepEqual(admission.filter("old0", [msg(vote, 1)]), [], "the peer that lost its entry is refused");
    assert.equal(admission.filter("old1", [msg(vote, 1)]).length, 1);
    now += 2_500; // the old ones have expired, "fresh" has not
    admission.iwantSent("newest");
    assert.equal(admission.iwantPeers, 2, "expired entries swept");
    assert.equal(admission.filter("fresh", [msg(vote, 1)]).length, 1);
  });
});

describe("installRpcAdmission", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("hooks a real host's gossipsub; leaves an object without those internals alone", async () => {
    const host = await pool.start();
    assert.equal(host.gossipAdmissionInstalled, true);
    assert.equal(installRpcAdmission({}), null);
    assert.equal(installRpcAdmission({ handleReceivedRpc: () => {}, gossipTracer: {} }), null);
  });

  it("refused messages reach neither the decoder nor the seen cache; an IWANT we send exempts its peer", async () => {
    const calls: { from: string; topics: string[] }[] = [];
    const promises: string[] = [];
    const fake = {
      opts: { gossipsubIWantFollowupMs: 3_000 },
      gossipTracer: { addPromise: (from: string) => promises.push(from) },
      handleReceivedRpc: async (from: { toString(): string }, rpc: { messages: { topic: string }[] }) => {
        calls.push({ from: from.toString(), topics: rpc.messages.map((m) => m.topic) });
      },
    };
    const admission = installRpcAdmission(fake);
    assert.ok(admission !== null);
    admission.admit = (kind) => kind === "block";
    const peer = { toString: () => "flooder" };
    await fake.handleReceivedRpc(peer, { messages: [msg(block, 1), msg(aggregation, 2)] });
    fake.gossipTracer.addPromise("flooder");
    await fake.handleReceivedRpc(peer, { messages: [msg(aggregation, 3)] });
    assert.deepEqual(calls, [
      { from: "flooder", topics: [block] },
      { from: "flooder", topics: [aggregation] },
    ]);
    assert.deepEqual(promises, ["flooder"], "gossipsub's own promise is still recorded");
  });
});

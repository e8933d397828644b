// The router's in-flight cap is per topic kind: a flood that fills the attestation validations
// must not push out a block. The pubsub stand-in only holds the validator registry the router
// fills; messages go straight to those validators, as gossipsub would call them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type GossipSub, type Message, TopicValidatorResult } from "@libp2p/gossipsub";
import { peerIdFromString } from "@libp2p/peer-id";
import { SignedAttestation, SignedBlock } from "@metronome/chain";
import { encodeGossipPayload } from "../src/gossip/codec.ts";
import { DecompressedPayloads } from "../src/gossip/options.ts";
import { GossipRouter } from "../src/gossip/router.ts";
import { attestationTopic, blockTopic, gossipTopicName } from "../src/gossip/topics.ts";
import { NetworkCounters } from "../src/stats.ts";
import { sampleAttestation, sampleBlock, TEST_FORK_DIGEST } from "./fixtures.ts";

type Validator = (peer: ReturnType<typeof peerIdFromString>, message: Message) => Promise<TopicValidatorResult>;

const PEER = peerIdFromString("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");

function setup(maxPending: { attestation: number; block: number }) {
  const topicValidators = new Map<string, Validator>();
  const pubsub = { topicValidators, subscribe() {} } as unknown as GossipSub;
  const counters = new NetworkCounters();
  const router = new GossipRouter(pubsub, {
    forkDigest: TEST_FORK_DIGEST,
    counters,
    payloads: new DecompressedPayloads(),
    maxPendingValidations: maxPending,
  });
  const attTopic = gossipTopicName(attestationTopic(TEST_FORK_DIGEST, 0));
  const blkTopic = gossipTopicName(blockTopic(TEST_FORK_DIGEST));
  router.subscribe(attestationTopic(TEST_FORK_DIGEST, 0));
  router.subscribe(blockTopic(TEST_FORK_DIGEST));
  const deliver = (topic: string, ssz: Uint8Array) => {
    const validator = topicValidators.get(topic);
    assert.ok(validator, `no validator for ${topic}`);
    return validator(PEER, { type: "unsigned", topic, data: encodeGossipPayload(ssz) } as Message);
  };
  return { router, counters, attTopic, blkTopic, deliver };
}

describe("gossip router in-flight cap", () => {
  it("is per topic kind: attestations at their cap are ignored and counted, a block still goes through", async () => {
    const { router, counters, attTopic, blkTopic, deliver } = setup({ attestation: 3, block: 3 });
    const stuck: Promise<TopicValidatorResult>[] = [];
    const release: (() => void)[] = [];
    router.setHandler("attestation", () => new Promise((resolve) => release.push(() => resolve("accept"))));
    router.setHandler("block", () => "accept");
    const att = SignedAttestation.serialize(sampleAttestation(1));
    for (let i = 0; i < 3; i++) stuck.push(deliver(attTopic, att));
    assert.equal(await deliver(attTopic, att), TopicValidatorResult.Ignore, "the 4th attestation is over the cap");
    assert.equal(counters.get("gossip_dropped_overload"), 1);
    const block = SignedBlock.serialize(sampleBlock(1));
    assert.equal(await deliver(blkTopic, block), TopicValidatorResult.Accept, "blocks have their own cap");
    for (const r of release) r();
    assert.deepEqual(await Promise.all(stuck), Array(3).fill(TopicValidatorResult.Accept));
    // Room again once the handlers answered.
    router.setHandler("attestation", () => "ignore");
    assert.equal(await deliver(attTopic, att), TopicValidatorResult.Ignore);
    assert.equal(counters.get("gossip_dropped_overload"), 1);
    assert.equal(counters.get("gossip_ignored"), 1);
  });
});

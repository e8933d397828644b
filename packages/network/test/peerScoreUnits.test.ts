// Pure parts of the peer defence: the application score store, the per-topic byte bounds and the
// gossipsub score parameters.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validatePeerScoreParams, validatePeerScoreThresholds } from "@libp2p/gossipsub/score";
import {
  MAX_VALID_SIGNED_BLOCK_SIZE,
  SignedAggregatedAttestation,
  SignedAttestation,
  SignedBlock,
} from "@metronome/chain";
import { maxCompressedLength } from "../src/encoding/limits.ts";
import { compressBlock } from "../src/encoding/snappyBlock.ts";
import { encodeVarint } from "../src/encoding/varint.ts";
import {
  APP_SCORE_WEIGHT,
  GRAYLIST_THRESHOLD,
  INVALID_MESSAGES_TO_GRAYLIST,
  MAX_POSITIVE_SCORE,
  PEER_SCORE_THRESHOLDS,
  peerScoreParams,
} from "../src/gossip/scoring.ts";
import { checkGossipEnvelope, GOSSIP_MAX_COMPRESSED_BYTES, GOSSIP_MAX_SSZ_BYTES } from "../src/gossip/topicLimits.ts";
import { attestationTopic, blockTopic, gossipTopicName } from "../src/gossip/topics.ts";
import { DEFERRED_PENALTY_GRACE_MS, DeferredPenalties, MAX_DEFERRED_PENALTIES } from "../src/host/deferredPenalties.ts";
import { PeerDefence } from "../src/host/peerDefence.ts";
import {
  APP_SCORE_HALF_LIFE_MS,
  BAN_COOLDOWN_MS,
  DISCONNECT_APP_SCORE,
  MAX_SCORED_PEERS,
  MIN_APP_SCORE,
  PEER_ACTION_PENALTY,
  PeerScoreStore,
} from "../src/host/peerScores.ts";
import { TEST_FORK_DIGEST } from "./fixtures.ts";

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

describe("application peer score", () => {
  it("each req/resp offence costs its penalty, and the score halves every half-life", () => {
    const clock = fakeClock();
    const store = new PeerScoreStore(clock.now);
    assert.equal(store.score("p"), 0);
    assert.equal(store.apply("p", "rate_limited"), PEER_ACTION_PENALTY.rate_limited);
    assert.equal(
      store.apply("p", "invalid_request"),
      PEER_ACTION_PENALTY.rate_limited + PEER_ACTION_PENALTY.invalid_request,
    );
    assert.equal(store.score("other"), 0, "one peer's offence is not another's");
    clock.advance(APP_SCORE_HALF_LIFE_MS);
    assert.ok(
      Math.abs(store.score("p") - (PEER_ACTION_PENALTY.rate_limited + PEER_ACTION_PENALTY.invalid_request) / 2) < 1e-9,
    );
    assert.deepEqual(store.snapshot().penalties, {
      rate_limited: 1,
      invalid_request: 1,
      malformed_response: 0,
      oversized_response: 0,
      unwanted_gossip: 0,
    });
  });

  it("two malformed responses reach the disconnect threshold; the floor bounds recovery", () => {
    const clock = fakeClock();
    const store = new PeerScoreStore(clock.now);
    store.apply("p", "malformed_response");
    assert.equal(store.shouldDisconnect("p"), false);
    store.apply("p", "malformed_response");
    assert.equal(store.score("p"), DISCONNECT_APP_SCORE);
    assert.equal(store.shouldDisconnect("p"), true);
    // Seconds later the score has decayed by a hair; it still counts as reaching the threshold.
    const later = new PeerScoreStore(clock.now);
    for (let i = 0; i < 4; i++) {
      later.apply("q", "invalid_request");
      clock.advance(2_000);
    }
    assert.ok(later.score("q") > DISCONNECT_APP_SCORE);
    assert.equal(later.shouldDisconnect("q"), true);
    for (let i = 0; i < 20; i++) store.apply("p", "oversized_response");
    assert.equal(store.score("p"), MIN_APP_SCORE);
  });

  it("a ban refuses the peer for the cool-down, counts refusals, then lapses", () => {
    const clock = fakeClock();
    const store = new PeerScoreStore(clock.now);
    store.ban("p", "gossip_score");
    assert.equal(store.refuses("p"), true);
    assert.equal(store.refuses("q"), false);
    clock.advance(BAN_COOLDOWN_MS - 1);
    assert.equal(store.isBanned("p"), true);
    clock.advance(1);
    assert.equal(store.refuses("p"), false);
    const stats = store.snapshot();
    assert.equal(stats.refusedConnections, 1);
    assert.deepEqual(stats.disconnects, { gossip_score: 1, app_score: 0 });
    assert.equal(stats.bannedNow, 0);
  });

  it("the store is capped: the least recently penalised peer is evicted and counted", () => {
    const store = new PeerScoreStore(fakeClock().now);
    for (let i = 0; i <= MAX_SCORED_PEERS; i++) store.apply(`p${i}`, "rate_limited");
    assert.equal(store.score("p0"), 0, "oldest entry evicted");
    assert.equal(store.score(`p${MAX_SCORED_PEERS}`), PEER_ACTION_PENALTY.rate_limited);
    assert.equal(store.snapshot().evictions, 1);
  });
});

describe("peer defence", () => {
  it("disconnects and bans a peer below the graylist threshold once, and one whose app score fell", async () => {
    const store = new PeerScoreStore(fakeClock().now);
    const scores = new Map([
      ["good", 10],
      ["flooder", GRAYLIST_THRESHOLD - 1],
      ["abuser", 0],
    ]);
    const cut: string[] = [];
    const defence = new PeerDefence({
      store,
      peers: () => [...scores.keys()],
      gossipScore: (p) => scores.get(p) ?? 0,
      disconnect: async (p) => {
        cut.push(p);
      },
    });
    defence.check();
    assert.deepEqual(cut, ["flooder"]);
    assert.equal(store.isBanned("flooder"), true);
    assert.deepEqual(defence.stats(), {
      graylistedNow: 1,
      graylistedTotal: 1,
      deferredPenalties: { forgiven: 0, charged: 0, not_deferred: 0 },
    });
    defence.penalise("abuser", "malformed_response");
    assert.deepEqual(cut, ["flooder"], "one offence is tolerated");
    defence.penalise("abuser", "malformed_response");
    assert.deepEqual(cut, ["flooder", "abuser"]);
    defence.check(); // still listed: hung up on again, but counted once
    assert.deepEqual(store.snapshot().disconnects, { gossip_score: 1, app_score: 1 });
    assert.deepEqual(defence.drainScoreSamples().length, 6);
    assert.deepEqual(defence.drainScoreSamples(), []);
  });

  it("tells the ban's listener which penalties brought the peer down (the operator's log line)", () => {
    const store = new PeerScoreStore(fakeClock().now);
    const told: [string, string, string][] = [];
    const defence = new PeerDefence({
      store,
      peers: () => [],
      gossipScore: () => 0,
      disconnect: async () => {},
      onDisconnect: (peer, reason, _score, penalties) => told.push([peer, reason, penalties]),
    });
    for (let i = 0; i < 8; i++) defence.penalise("syncing", "rate_limited");
    defence.penalise("syncing", "invalid_request");
    assert.deepEqual(told, [["syncing", "app_score", "rate_limited x8, invalid_request x1"]]);
    defence.penalise("liar", "malformed_response", "blocks_by_range: block at slot 9 out of range");
    defence.penalise("liar", "malformed_response", "x".repeat(1000));
    assert.equal(told[1]?.[2], `malformed_response x2; last: ${"x".repeat(160)}`);
    assert.equal(store.penaltySummary("never-penalised"), "");
  });
});

describe("per-topic gossip byte bounds", () => {
  it("are the largest valid sizes: the vote types' maxSize, the largest importable block", () => {
    assert.equal(GOSSIP_MAX_SSZ_BYTES.attestation, SignedAttestation.maxSize);
    assert.equal(GOSSIP_MAX_SSZ_BYTES.attestation, 232);
    assert.equal(GOSSIP_MAX_SSZ_BYTES.aggregation, SignedAggregatedAttestation.maxSize);
    // Not SignedBlock.maxSize (2.6 MB, 4096 aggregates): a body of more than 8 cannot be imported.
    assert.equal(GOSSIP_MAX_SSZ_BYTES.block, MAX_VALID_SIGNED_BLOCK_SIZE);
    assert.ok(MAX_VALID_SIGNED_BLOCK_SIZE < SignedBlock.maxSize);
  });

  for (const kind of ["block", "attestation", "aggregation"] as const) {
    it(`${kind}: one byte over either bound is refused before decompression`, () => {
      const max = GOSSIP_MAX_SSZ_BYTES[kind];
      // Declared length: exactly the maximum passes, one byte more does not.
      const atMax = new Uint8Array([...encodeVarint(max), 0]);
      const over = new Uint8Array([...encodeVarint(max + 1), 0]);
      assert.equal(checkGossipEnvelope(kind, atMax), null);
      assert.equal(checkGossipEnvelope(kind, over), "declared_too_large");
      // Compressed length: the encoder's worst case for the maximum passes, one byte more does not.
      const bound = GOSSIP_MAX_COMPRESSED_BYTES[kind];
      assert.equal(bound, maxCompressedLength(max));
      const longest = new Uint8Array(bound);
      longest.set(encodeVarint(8));
      assert.equal(checkGossipEnvelope(kind, longest), null);
      const tooLong = new Uint8Array(bound + 1);
      tooLong.set(encodeVarint(8));
      assert.equal(checkGossipEnvelope(kind, tooLong), "compressed_too_large");
      // A real maximal payload passes.
      assert.equal(checkGossipEnvelope(kind, compressBlock(new Uint8Array(max))), null);
    });
  }

  it("a preamble longer than five bytes is not a snappy block", () => {
    assert.equal(checkGossipEnvelope("block", Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)), "bad_preamble");
    assert.equal(checkGossipEnvelope("block", Uint8Array.of(0x80)), "bad_preamble");
  });
});

describe("gossipsub score parameters", () => {
  const params = peerScoreParams({
    forkDigest: TEST_FORK_DIGEST,
    attestationSubnetCount: 4,
    slotDurationMs: 4000,
    appScore: () => 0,
  });

  it("are accepted by gossipsub's own validation", () => {
    validatePeerScoreParams(params);
    validatePeerScoreThresholds(PEER_SCORE_THRESHOLDS);
    assert.equal(Object.keys(params.topics).length, 2 + 4);
  });

  it("P3 and P3b are off on every topic; positive score cannot offset a graylisting", () => {
    for (const topic of Object.values(params.topics)) {
      assert.equal(topic.meshMessageDeliveriesWeight, 0);
      assert.equal(topic.meshFailurePenaltyWeight, 0);
    }
    assert.ok(MAX_POSITIVE_SCORE * 10 < -GRAYLIST_THRESHOLD);
    assert.ok(params.IPColocationFactorWhitelist.has("127.0.0.1"));
    assert.equal(params.appSpecificWeight, APP_SCORE_WEIGHT);
  });

  it("the same number of invalid messages graylists on any topic", () => {
    for (const name of [
      gossipTopicName(blockTopic(TEST_FORK_DIGEST)),
      gossipTopicName(attestationTopic(TEST_FORK_DIGEST, 3)),
    ]) {
      const t = params.topics[name];
      assert.ok(t !== undefined);
      const atCount = (n: number) => t.topicWeight * t.invalidMessageDeliveriesWeight * n * n;
      assert.ok(Math.abs(atCount(INVALID_MESSAGES_TO_GRAYLIST) - GRAYLIST_THRESHOLD) < 1e-6);
      assert.ok(atCount(INVALID_MESSAGES_TO_GRAYLIST - 1) > GRAYLIST_THRESHOLD);
    }
  });

  it("holds an early-end penalty for its grace period: forgiven if the peer disconnects, charged if not", () => {
    const clock = fakeClock();
    const store = new PeerScoreStore(clock.now);
    const cut: string[] = [];
    const defence = new PeerDefence({
      store,
      peers: () => [],
      gossipScore: () => 0,
      disconnect: async (peer) => {
        cut.push(peer);
      },
      now: clock.now,
    });
    defence.penaliseUnlessDisconnected("dropped", "malformed_response", "empty Status response");
    defence.penaliseUnlessDisconnected("stayer", "malformed_response", "empty Status response");
    defence.penaliseUnlessDisconnected("stayer", "malformed_response", "empty Status response");
    assert.equal(store.score("stayer"), 0, "nothing charged before the grace runs out");
    defence.peerDisconnected("dropped");
    clock.advance(DEFERRED_PENALTY_GRACE_MS - 1);
    defence.check();
    assert.equal(store.score("stayer"), 0, "still inside the grace period");
    clock.advance(1);
    defence.check();
    assert.equal(store.score("dropped"), 0);
    assert.equal(store.score("stayer"), 2 * PEER_ACTION_PENALTY.malformed_response);
    assert.deepEqual(cut, ["stayer"], "two charged malformed responses still disconnect");
    assert.deepEqual(defence.stats().deferredPenalties, { forgiven: 1, charged: 2, not_deferred: 0 });

    // The disconnect event can come before the early end is noticed: forgiven within the grace too.
    defence.peerDisconnected("gone-first");
    clock.advance(DEFERRED_PENALTY_GRACE_MS);
    defence.penaliseUnlessDisconnected("gone-first", "invalid_request");
    clock.advance(1);
    defence.check();
    defence.penaliseUnlessDisconnected("gone-first", "invalid_request"); // past the grace: held
    clock.advance(DEFERRED_PENALTY_GRACE_MS);
    defence.check();
    assert.equal(store.score("gone-first"), PEER_ACTION_PENALTY.invalid_request);
    assert.deepEqual(defence.stats().deferredPenalties, { forgiven: 2, charged: 3, not_deferred: 0 });
  });

  it("charges at once when the holding of deferred penalties is full", () => {
    const held = new DeferredPenalties(fakeClock().now);
    for (let i = 0; i < MAX_DEFERRED_PENALTIES; i++) assert.equal(held.defer(`p${i}`, "invalid_request"), true);
    assert.equal(held.defer("one-too-many", "invalid_request"), false);
    assert.equal(held.size, MAX_DEFERRED_PENALTIES);
    assert.deepEqual(held.stats(), { forgiven: 0, charged: 0, not_deferred: 1 });
  });
});

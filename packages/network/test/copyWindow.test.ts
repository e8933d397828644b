// The copy-window caps reach into @libp2p/gossipsub's internals: this runs them on a real host, so
// a library upgrade that changes those internals fails here instead of silently keeping gossipsub's
// own lifetimes (2 minutes for delivery records, the seen TTL for fast ids).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { VERDICT_DEADLINE_MS } from "../src/boundary/gossipOutbox.ts";
import { capDeliveryRecordLifetime, deliveryRecordExpiry } from "../src/gossip/deliveryRecords.ts";
import { capFastIdCacheLifetime, fastIdCacheLifetime } from "../src/gossip/fastIdCache.ts";
import {
  GOSSIP_HEARTBEAT_MS,
  GOSSIP_MIN_COPY_WINDOW_MS,
  GOSSIP_SEEN_TTL_MS,
  gossipCopyWindowMs,
} from "../src/gossip/options.ts";
import type { NetworkHost } from "../src/host/networkHost.ts";
import { HostPool } from "./hosts.ts";

interface GossipsubInternals {
  seenCache: { validityMs: number; has(id: string): boolean };
  fastMsgIdCache: { clear(): void; size: number };
  validateReceivedMessage(from: unknown, rpcMsg: { topic: string; data: Uint8Array }): Promise<{ code: string }>;
}

function pubsubOf(host: NetworkHost): GossipsubInternals {
  return (host as unknown as { node: { services: { pubsub: GossipsubInternals } } }).node.services.pubsub;
}

describe("gossipsub copy window", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("is twice the message cache's window, longer than a verdict takes, never past the seen TTL", () => {
    assert.equal(gossipCopyWindowMs(GOSSIP_HEARTBEAT_MS, GOSSIP_SEEN_TTL_MS), 8_400);
    assert.ok(GOSSIP_MIN_COPY_WINDOW_MS > VERDICT_DEADLINE_MS, "a record outlives its message's validation");
    assert.equal(gossipCopyWindowMs(50, GOSSIP_SEEN_TTL_MS), GOSSIP_MIN_COPY_WINDOW_MS);
    assert.equal(gossipCopyWindowMs(GOSSIP_HEARTBEAT_MS, 5_000), 5_000);
  });

  it("delivery records and fast ids live for the copy window on a real host; seen ids for the seen TTL", async () => {
    const host = await pool.start();
    assert.equal(host.deliveryRecordsCapped, true);
    assert.equal(host.fastIdCacheCapped, true);
    const pubsub = pubsubOf(host);
    const expiry = deliveryRecordExpiry(pubsub, "some-message-id");
    assert.ok(expiry !== undefined, "the record internals are where the cap expects them");
    const left = expiry - Date.now();
    assert.ok(left > 8_000 && left <= 8_400, `record lives ${left} ms, not gossipsub's 2 minutes`);
    assert.equal(fastIdCacheLifetime(pubsub), 8_400, "fast ids are not kept for the seen TTL");
    assert.equal(pubsub.seenCache.validityMs, GOSSIP_SEEN_TTL_MS, "the seen cache keeps the protocol's TTL");
  });

  it("a copy that arrives after its fast id expired is still dropped as a duplicate", async () => {
    const host = await pool.start();
    const pubsub = pubsubOf(host);
    // A topic with no validator: gossipsub's own duplicate handling, nothing of the node's.
    const message = { topic: "/leanconsensus/00000000/copy_window_test/ssz_snappy", data: new Uint8Array([1, 2, 3]) };
    const from = (host as unknown as { node: { peerId: unknown } }).node.peerId;
    assert.equal((await pubsub.validateReceivedMessage(from, message)).code, "valid");
    assert.equal(pubsub.fastMsgIdCache.size, 1);
    assert.equal((await pubsub.validateReceivedMessage(from, message)).code, "duplicate", "by its fast id");
    pubsub.fastMsgIdCache.clear(); // the copy window has passed; the seen TTL has not
    assert.equal((await pubsub.validateReceivedMessage(from, message)).code, "duplicate", "by its seen id");
  });

  it("leaves an object without those internals alone", () => {
    assert.equal(capDeliveryRecordLifetime({}, 1000), false);
    assert.equal(capDeliveryRecordLifetime({ score: { deliveryRecords: { records: new Map() } } }, 1000), false);
    assert.equal(capFastIdCacheLifetime({}, 1000), false);
    assert.equal(capFastIdCacheLifetime({ fastMsgIdCache: { entries: new Map() } }, 1000), false);
  });
});

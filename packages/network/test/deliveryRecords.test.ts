// The delivery-record lifetime cap reaches into @libp2p/gossipsub's internals: this runs it on a
// real host, so a library upgrade that changes them fails here instead of silently keeping 2 min.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { capDeliveryRecordLifetime, deliveryRecordExpiry } from "../src/gossip/deliveryRecords.ts";
import { HostPool } from "./hosts.ts";

describe("gossipsub delivery records", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("expire after the seen TTL on a real host, not gossipsub's fixed 2 minutes", async () => {
    const host = await pool.start({ gossipSeenTtlMs: 24_000 });
    assert.equal(host.deliveryRecordsCapped, true);
    const pubsub = (host as unknown as { node: { services: { pubsub: unknown } } }).node.services.pubsub;
    const expiry = deliveryRecordExpiry(pubsub, "some-message-id");
    assert.ok(expiry !== undefined, "the internals are where the cap expects them");
    const left = expiry - Date.now();
    assert.ok(left > 20_000 && left <= 24_000, `record lives ${left} ms`);
  });

  it("leaves an object without those internals alone", () => {
    assert.equal(capDeliveryRecordLifetime({}, 1000), false);
    assert.equal(capDeliveryRecordLifetime({ score: { deliveryRecords: { records: new Map() } } }, 1000), false);
  });
});

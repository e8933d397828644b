// Past gossipsub's IP-colocation threshold (10 peers on one address), loopback peers must still form
// a mesh and relay. A 16-node loopback devnet once never justified: every node saw 15 peers on
// 127.0.0.1, scored each (15 - 10)^2 * -5 = -125, below the graylist threshold, and dropped all of
// their gossip; from 11 peers on, every score was negative and every mesh empty.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { meshDegrees } from "../src/gossip/options.ts";
import type { NetworkHost } from "../src/host/networkHost.ts";
import { sampleAttestation, sampleBlock, waitFor } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

/** More spokes than gossipsub's IPColocationFactorThreshold (10), all on 127.0.0.1. */
const SPOKES = 12;

describe("a gossip hub with more loopback peers than the IP-colocation threshold", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("keeps a full mesh and relays every spoke's messages to spokes that are not connected to their author", async () => {
    const hub = await pool.start();
    const hubAddr = hub.multiaddrs()[0] as string;
    const spokes: NetworkHost[] = [];
    for (let i = 0; i < SPOKES; i++) spokes.push(await pool.start({ bootnodes: [hubAddr] }));
    const received = spokes.map(() => ({ blocks: new Set<number>(), attestations: 0 }));
    spokes.forEach((spoke, i) => {
      spoke.setGossipHandler("block", (block) => {
        received[i]?.blocks.add(block.block.slot);
        return "accept";
      });
      spoke.setGossipHandler("attestation", () => {
        (received[i] as { attestations: number }).attestations++;
        return "accept";
      });
    });
    hub.setGossipHandler("block", () => "accept");
    hub.setGossipHandler("attestation", () => "accept");
    for (const host of [hub, ...spokes]) host.subscribe([0]);
    await waitFor(() => hub.peerCount() === SPOKES, `${SPOKES} spokes connected to the hub`, 20_000);
    // Both ends must know the other's subscriptions first: a message sent before that is not resent.
    await waitFor(
      () =>
        spokes.every((s) => s.gossipSubscribers("block").includes(hub.peerId)) &&
        spokes.every((s) => s.gossipSubscribers("attestation", 0).includes(hub.peerId)) &&
        hub.gossipSubscribers("block").length === SPOKES &&
        hub.gossipSubscribers("attestation", 0).length === SPOKES,
      "subscriptions exchanged",
      20_000,
    );
    // Every spoke's only peer is the hub, so each grafts it; the hub keeps up to D_high of them.
    await waitFor(
      () => hub.gossipMeshPeers("block").length === SPOKES && hub.gossipMeshPeers("attestation", 0).length === SPOKES,
      "every spoke in the hub's meshes (a peer scored below zero is never grafted)",
      20_000,
    );

    // Each spoke publishes one block; every other spoke can only get it through the hub.
    for (let i = 0; i < SPOKES; i++) await (spokes[i] as NetworkHost).publishBlock(sampleBlock(100 + i));
    await (spokes[0] as NetworkHost).publishAttestation(0, sampleAttestation(5));
    await waitFor(
      () => received.every((r, i) => r.blocks.size === SPOKES - 1 && !r.blocks.has(100 + i)),
      "every spoke to receive the other spokes' blocks through the hub",
      15_000,
    );
    await waitFor(
      () => received.slice(1).every((r) => r.attestations === 1),
      "the attestation to reach every other spoke",
    );
    assert.ok(hub.stats().gossip_accepted >= SPOKES + 1, "the hub accepted every message it relayed");
  });
});

describe("meshDegrees", () => {
  it("is PROTOCOL.md's 8/6/12/6 by default and keeps gossipsub's constraints when lowered", () => {
    assert.deepEqual(meshDegrees(), { D: 8, Dlo: 6, Dhi: 12, Dlazy: 6, Dout: 2 });
    for (let d = 1; d <= 16; d++) {
      const m = meshDegrees(d);
      assert.ok(m.Dlo <= m.D && m.D <= m.Dhi, `Dlo <= D <= Dhi at ${d}`);
      assert.ok(m.Dout < m.Dlo || (m.Dout === 0 && m.Dlo === 1), `Dout < Dlo at ${d}`);
      assert.ok(m.Dout <= m.D / 2, `Dout <= D/2 at ${d}`);
    }
    assert.deepEqual(meshDegrees(3), { D: 3, Dlo: 2, Dhi: 5, Dlazy: 2, Dout: 1 });
    assert.throws(() => meshDegrees(0), RangeError);
  });
});

// Votes that cross the gossip mesh. Two devnets, one after the other:
//  - 16 nodes, every one connected to the 15 others on 127.0.0.1: more peers than gossipsub's
//    IP-colocation threshold (10). This devnet never justified before loopback peers were exempt
//    from that penalty: every peer scored below the graylist threshold and all gossip was dropped.
//    It runs with the subnets `metronome devnet` gives 16 nodes (one per node): each node's votes
//    go straight to the aggregator, and the other nodes see them only as aggregates.
//  - 10 nodes on a ring (each dials its next 2, so about 4 peers each) with mesh degree 3: the
//    aggregator is directly connected to 4 of the 9 other nodes, and half of the validators' votes
//    need two or more gossip hops to reach it. 2/3 of the votes are needed to justify, so finality
//    here proves that multi-hop votes arrive.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defaultCommitteeCount } from "../packages/devnet/src/subnets.ts";
import { ringHops, topologyArgs } from "../packages/devnet/src/topology.ts";
import { parsePromText, promValue } from "../packages/flood/src/promText.ts";
import { type NodeHealth, TestDevnet } from "./helpers/devnet.ts";

/**
 * Waits `slots` more slots and returns, per node, the smallest head - finalized seen meanwhile.
 * 3SF-mini justifies only some distances, so the lag oscillates; it must touch the target.
 */
async function finalityLag(net: TestDevnet, ids: number[], slots: number): Promise<Map<number, number>> {
  const minLag = new Map<number, number>();
  const start = await net.waitForHealth(ids, () => true, "health", 10_000);
  const endSlot = Math.max(...start.map((h) => h.current_slot)) + slots;
  await net.waitForHealth(
    ids,
    (hs) => {
      for (const h of hs) {
        const lag = h.head_slot - h.finalized_slot;
        minLag.set(h.node_id ?? -1, Math.min(minLag.get(h.node_id ?? -1) ?? lag, lag));
      }
      return hs.every((h) => h.current_slot >= endSlot);
    },
    `${slots} more slots`,
    slots * net.slotMs * 3,
  );
  return minLag;
}

function assertAgreeOnFinalized(healths: NodeHealth[]): void {
  const lowest = healths.reduce((a, b) => (a.finalized_slot <= b.finalized_slot ? a : b));
  for (const h of healths) {
    if (h.finalized_slot === lowest.finalized_slot) {
      assert.equal(h.finalized_root, lowest.finalized_root, `node ${h.node_id} finalized another block`);
    }
  }
}

describe("mesh: 16 fully connected nodes on one address (past the IP-colocation threshold)", () => {
  const NODES = Array.from({ length: 16 }, (_, i) => i);
  let net: TestDevnet;

  before(async () => {
    const committeeCount = defaultCommitteeCount(16, undefined);
    net = await TestDevnet.create({ name: "mesh16", nodes: 16, validators: 32, slotSeconds: 2, committeeCount });
    net.startAll();
  });
  after(async () => {
    await net?.teardown();
  });

  it("every node justifies and finalizes, and all agree", async () => {
    const healths = await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot >= 4),
      "finalized slot >= 4 on all 16 nodes",
      120_000,
    );
    assertAgreeOnFinalized(healths);
    // Every node is connected to all 15 others. On two cores a connection can drop for a moment
    // (a late ping) and be redialled, so this waits for the full count; a peer banned for its
    // score would stay away for 10 minutes, and the score-disconnect counters must read 0.
    await net.waitForHealth(NODES, (hs) => hs.every((h) => h.peers === 15), "15 peers on every node", 30_000);
    for (const id of NODES) {
      const text = await net.scrapeMetrics(id);
      const bans = [...text.matchAll(/^metronome_peer_score_disconnects_total\{[^}]*\} (\d+)$/gm)];
      assert.ok(bans.length > 0, `node ${id}: no metronome_peer_score_disconnects_total series`);
      const total = bans.reduce((sum, m) => sum + Number(m[1]), 0);
      assert.equal(total, 0, `node ${id} disconnected honest peers for their score`);
    }
  });

  it("the aggregator received the other nodes' votes through gossip", async () => {
    const text = await net.scrapeMetrics(0);
    const accepted = Number(
      /metronome_gossip_messages_total\{topic="attestation",result="accept"\} (\d+)/.exec(text)?.[1],
    );
    // 30 of 32 validators are on other nodes and vote every slot; finality took several slots.
    assert.ok(accepted >= 30 * 4, `aggregator accepted only ${accepted} gossip attestations`);
  });

  it("with a subnet per node, the other nodes verify no one else's single votes, only aggregates", async () => {
    for (const id of NODES.slice(1)) {
      const metrics = parsePromText(await net.scrapeMetrics(id));
      // A series the node never incremented is absent: it counted none.
      const count = (topic: string, result: string) => {
        const value = promValue(metrics, "metronome_gossip_messages_total", { topic, result });
        return Number.isNaN(value) ? 0 : value;
      };
      // Node k's validators (k and k + 16) both publish on subnet k, which only node k and the
      // aggregator join: nothing comes back to node k on it, and it joins no other subnet.
      assert.equal(count("attestation", "accept"), 0, `node ${id} verified single votes from gossip`);
      assert.ok(count("aggregation", "accept") >= 4, `node ${id} accepted no aggregates`);
    }
  });
});

describe("mesh: 10 nodes on a ring with mesh degree 3 (most votes travel more than one hop)", () => {
  const N = 10;
  const RING = 2;
  const MESH_DEGREE = 3;
  const NODES = Array.from({ length: N }, (_, i) => i);
  let net: TestDevnet;

  before(async () => {
    net = await TestDevnet.create({ name: "mesh-ring", nodes: N, validators: 40, slotSeconds: 2 });
    for (const id of NODES) {
      net.start(id, topologyArgs(net.genesis.nodes, net.entry(id), { ring: RING, meshDegree: MESH_DEGREE }));
    }
  });
  after(async () => {
    await net?.teardown();
  });

  it("the topology is sparse: the aggregator's peers are its 4 ring neighbours; 5 nodes are 2+ hops away", async () => {
    const hops = ringHops(N, RING, 0);
    assert.equal(hops.filter((h) => h >= 2).length, 5);
    const neighbours = NODES.filter((id) => hops[id] === 1).map((id) => net.entry(id).peerId);
    let peersOfZero: string[] = [];
    await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.peers >= 2) && (hs[0]?.peers ?? 0) === 2 * RING,
      "ring connections",
      60_000,
    );
    const { body } = await net.getJson(0, "/eth/v1/node/peers");
    peersOfZero = ((body as { data: { peer_id: string }[] }).data ?? []).map((p) => p.peer_id).sort();
    assert.deepEqual(peersOfZero, [...neighbours].sort(), "node 0 is connected to exactly its ring neighbours");
    for (const h of await net.waitForHealth(NODES, () => true, "health", 10_000)) {
      assert.ok(h.peers <= 2 * RING, `node ${h.node_id} has ${h.peers} peers (more than its ring neighbours)`);
    }
  });

  it("every node finalizes, and finality comes within 4 slots of the head", async (t) => {
    const healths = await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot >= 4),
      "finalized slot >= 4 on all 10 nodes",
      120_000,
    );
    assertAgreeOnFinalized(healths);
    const lag = await finalityLag(net, NODES, 8);
    t.diagnostic(`min head - finalized over 8 slots: ${[...lag].map(([id, l]) => `${id}:${l}`).join(" ")}`);
    for (const id of NODES) assert.ok((lag.get(id) ?? 99) <= 4, `node ${id}: head - finalized never <= 4`);
  });
});

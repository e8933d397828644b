import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeEntry } from "@metronome/common";
import { bootnodeAddr, ringBootnodes, ringHops, topologyArgs } from "../src/topology.ts";

function entries(n: number): NodeEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    nodeId: i,
    peerId: `peer${i}`,
    listen: `/ip4/127.0.0.1/tcp/${9000 + i}`,
    httpPort: 5100 + i,
    metricsPort: 8100 + i,
    validatorIndices: [i],
    isAggregator: i === 0,
  }));
}

describe("devnet topology", () => {
  it("a ring node dials exactly its next k nodes, wrapping around", () => {
    const e = entries(10);
    assert.deepEqual(ringBootnodes(e, 0, 2), [bootnodeAddr(e[1] as NodeEntry), bootnodeAddr(e[2] as NodeEntry)]);
    assert.deepEqual(ringBootnodes(e, 9, 2), [bootnodeAddr(e[0] as NodeEntry), bootnodeAddr(e[1] as NodeEntry)]);
    assert.equal(bootnodeAddr(e[3] as NodeEntry), "/ip4/127.0.0.1/tcp/9003/p2p/peer3");
    // Never more than the other nodes, never itself.
    assert.equal(ringBootnodes(entries(3), 0, 5).length, 2);
    assert.throws(() => ringBootnodes(e, 0, 0), RangeError);
  });

  it("in a 10-node ring of degree 2, half of the nodes are 2 or more hops from node 0", () => {
    assert.deepEqual(ringHops(10, 2, 0), [0, 1, 1, 2, 2, 3, 2, 2, 1, 1]);
    assert.deepEqual(ringHops(4, 3, 0), [0, 1, 1, 1]);
  });

  it("topologyArgs passes the ring's bootnodes and the mesh degree, and nothing by default", () => {
    const e = entries(5);
    assert.deepEqual(topologyArgs(e, e[0] as NodeEntry, {}), []);
    assert.deepEqual(topologyArgs(e, e[4] as NodeEntry, { ring: 1, meshDegree: 3 }), [
      "--bootnodes",
      bootnodeAddr(e[0] as NodeEntry),
      "--gossip-mesh-degree",
      "3",
    ]);
    // A lone node gets no --bootnodes (an empty list would mean the genesis bootnodes).
    assert.deepEqual(topologyArgs(entries(1), entries(1)[0] as NodeEntry, { ring: 2 }), []);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PeerFairQueue } from "../../src/runtime/peerFairQueue.ts";

function queue(capacity: number, perPeerCapacity = capacity, maxPeers = 16) {
  const dropped: string[] = [];
  const q = new PeerFairQueue<string>({ capacity, perPeerCapacity, maxPeers, onDrop: (item) => dropped.push(item) });
  return { q, dropped };
}

describe("PeerFairQueue", () => {
  it("serves lanes round-robin, newest first within a lane", () => {
    const { q } = queue(100);
    for (const item of ["a1", "a2", "a3"]) q.push("a", item);
    for (const item of ["b1", "b2"]) q.push("b", item);
    q.push(null, "own");
    const served = q.popBatch(100);
    assert.equal(served.length, 6);
    // Each round takes one item per lane: the first three items come from three different lanes.
    assert.deepEqual(new Set(served.slice(0, 3).map((x) => x[0])), new Set(["a", "b", "o"]));
    assert.deepEqual(
      served.filter((x) => x.startsWith("a")),
      ["a3", "a2", "a1"],
    );
    assert.equal(q.size, 0);
    assert.equal(q.peerCount, 0, "emptied lanes are removed");
  });

  it("when full, the fullest lane loses its oldest item", () => {
    const { q, dropped } = queue(4);
    q.push("flood", "f1");
    q.push("flood", "f2");
    q.push("flood", "f3");
    q.push("honest", "h1");
    q.push("honest", "h2"); // full: the flooder's oldest goes
    assert.deepEqual(dropped, ["f1"]);
    q.push("flood", "f4"); // full again: the flooder (2 queued) is still the fullest
    assert.deepEqual(dropped, ["f1", "f2"]);
    assert.equal(q.size, 4);
    assert.deepEqual(q.popBatch(4).sort(), ["f3", "f4", "h1", "h2"]);
    assert.equal(q.stats().dropped.queue_full, 2);
  });

  it("holds one peer to its lane's capacity", () => {
    const { q, dropped } = queue(100, 3);
    for (let i = 1; i <= 5; i++) q.push("flood", `f${i}`);
    assert.equal(q.size, 3);
    assert.deepEqual(dropped, ["f1", "f2"]);
    q.push("honest", "h1");
    assert.equal(q.size, 4);
    assert.deepEqual(q.popBatch(2).sort(), ["f5", "h1"]);
  });

  it("caps lanes: peers beyond maxPeers share the overflow lane", () => {
    const { q } = queue(100, 100, 2);
    q.push("p1", "a");
    q.push("p2", "b");
    q.push("p3", "c");
    q.push("p4", "d");
    assert.equal(q.peerCount, 3, "two lanes plus the shared overflow lane");
    assert.equal(q.size, 4);
  });

  it("rotates which lane is served first across batches", () => {
    const { q } = queue(100);
    for (let i = 0; i < 10; i++) {
      q.push("a", `a${i}`);
      q.push("b", `b${i}`);
    }
    const firsts = [q.popBatch(1)[0], q.popBatch(1)[0]].map((x) => x?.[0]);
    assert.deepEqual(new Set(firsts), new Set(["a", "b"]));
  });

  it("refuses nonsense sizes", () => {
    assert.throws(() => new PeerFairQueue({ capacity: 0, perPeerCapacity: 1, maxPeers: 1 }), RangeError);
    assert.throws(() => new PeerFairQueue({ capacity: 1, perPeerCapacity: 1, maxPeers: 0.5 }), RangeError);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultCommitteeCount, SHARED_SUBNET_MAX_NODES, splitValidators } from "../src/subnets.ts";

describe("devnet attestation subnets", () => {
  it("keeps the protocol's one subnet up to the mesh degree's node count and on a ring", () => {
    assert.equal(defaultCommitteeCount(4, undefined), 1);
    assert.equal(defaultCommitteeCount(SHARED_SUBNET_MAX_NODES, undefined), 1);
    // A ring node may not reach the aggregator directly: everyone must relay the one subnet.
    assert.equal(defaultCommitteeCount(16, 2), 1);
  });

  it("gives a larger fully connected devnet one subnet per node", () => {
    assert.equal(defaultCommitteeCount(SHARED_SUBNET_MAX_NODES + 1, undefined), SHARED_SUBNET_MAX_NODES + 1);
    assert.equal(defaultCommitteeCount(16, undefined), 16);
  });

  it("splits in contiguous ranges with one subnet (the first n % k nodes get one more)", () => {
    assert.deepEqual(splitValidators(10, 3), [
      [0, 1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    assert.deepEqual(splitValidators(10, 3, 1), splitValidators(10, 3));
  });

  it("with a subnet per node, every validator of a node publishes on that node's one subnet", () => {
    const nodes = 16;
    const split = splitValidators(256, nodes, nodes);
    assert.equal(split.flat().length, 256);
    assert.deepEqual(new Set(split.flat()).size, 256, "each validator on exactly one node");
    split.forEach((indices, node) => {
      assert.equal(indices.length, 16);
      assert.deepEqual(new Set(indices.map((v) => v % nodes)), new Set([node]));
    });
  });

  it("with more subnets than nodes, each subnet stays on one node and every node gets validators", () => {
    const split = splitValidators(20, 4, 6);
    assert.equal(split.flat().length, 20);
    const nodeOfSubnet = new Map<number, number>();
    split.forEach((indices, node) => {
      assert.ok(indices.length > 0);
      for (const v of indices) {
        const held = nodeOfSubnet.get(v % 6);
        assert.ok(held === undefined || held === node, `subnet ${v % 6} split over nodes`);
        nodeOfSubnet.set(v % 6, node);
      }
    });
  });

  it("with fewer subnets than nodes, falls back to contiguous ranges so no node is left empty", () => {
    assert.deepEqual(splitValidators(8, 4, 2), splitValidators(8, 4));
  });
});

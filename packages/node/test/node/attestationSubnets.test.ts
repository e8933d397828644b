import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attestationSubnetsToJoin } from "../../src/node/attestationSubnets.ts";

describe("attestationSubnetsToJoin", () => {
  it("an aggregator joins every subnet", () => {
    assert.deepEqual(attestationSubnetsToJoin(4, { validatorIndices: [0, 4], isAggregator: true }), [0, 1, 2, 3]);
  });

  it("any other node joins only its own validators' subnets", () => {
    assert.deepEqual(attestationSubnetsToJoin(16, { validatorIndices: [3, 19, 35], isAggregator: false }), [3]);
    assert.deepEqual(attestationSubnetsToJoin(4, { validatorIndices: [1, 2, 6], isAggregator: false }), [1, 2]);
  });

  it("with the protocol's one subnet every node joins it, validators or not", () => {
    assert.deepEqual(attestationSubnetsToJoin(1, { validatorIndices: [], isAggregator: false }), [0]);
    assert.deepEqual(attestationSubnetsToJoin(1, { validatorIndices: [5], isAggregator: false }), [0]);
  });

  it("a node without validators joins no subnet of several: it sees the votes as aggregates", () => {
    assert.deepEqual(attestationSubnetsToJoin(8, { validatorIndices: [], isAggregator: false }), []);
  });
});

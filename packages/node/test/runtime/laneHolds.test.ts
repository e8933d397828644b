// When the node asks the network to hold a peer whose lane overflowed: once per hold per (kind,
// peer), never for local votes, in a bounded map.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HeldKind, LANE_HOLD_MS, LaneHolds } from "../../src/runtime/laneHolds.ts";

function holds(maxEntries?: number) {
  const sent: [HeldKind, string, number][] = [];
  let now = 10_000;
  const lane = new LaneHolds({
    send: (kind, peer, ms) => sent.push([kind, peer, ms]),
    now: () => now,
    ...(maxEntries === undefined ? {} : { maxEntries }),
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { lane, sent, advance };
}

describe("LaneHolds", () => {
  it("asks once per hold, however many votes the lane drops meanwhile, and again once it has ended", () => {
    const { lane, sent, advance } = holds();
    for (let i = 0; i < 100; i++) lane.overflowed("aggregation", "flooder");
    assert.deepEqual(sent, [["aggregation", "flooder", LANE_HOLD_MS]]);
    assert.equal(lane.suppressed, 99);
    advance(LANE_HOLD_MS - 1);
    lane.overflowed("aggregation", "flooder");
    assert.equal(sent.length, 1, "still inside the hold asked for");
    advance(1);
    lane.overflowed("aggregation", "flooder");
    assert.equal(sent.length, 2, "the hold ended and the lane overflows again: ask again");
    assert.equal(lane.sent, 2);
  });

  it("kinds and peers are held apart; a local vote (no peer) never holds anyone", () => {
    const { lane, sent } = holds();
    lane.overflowed("aggregation", "a");
    lane.overflowed("attestation", "a");
    lane.overflowed("aggregation", "b");
    lane.overflowed("aggregation", null);
    assert.deepEqual(
      sent.map(([kind, peer]) => `${kind}/${peer}`),
      ["aggregation/a", "attestation/a", "aggregation/b"],
    );
  });

  it("remembers at most maxEntries holds, forgetting the one that ends soonest (the oldest: holds are all as long)", () => {
    const { lane, sent } = holds(3);
    for (const peer of ["a", "b", "c", "d"]) lane.overflowed("attestation", peer);
    assert.equal(lane.size, 3);
    lane.overflowed("attestation", "a");
    assert.equal(sent.length, 5, "a was forgotten to make room for d, so it is asked for again");
    lane.overflowed("attestation", "d");
    assert.equal(sent.length, 5, "d is still remembered");
  });
});

// The clock package may not import the chain package, so its default slot length and interval
// count restate the chain's SECONDS_PER_SLOT and INTERVALS_PER_SLOT. A node built from clock
// defaults must keep the chain's time: this pins the two equal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { INTERVALS_PER_SLOT, SECONDS_PER_SLOT } from "@metronome/chain";
import { DEFAULT_INTERVALS_PER_SLOT, DEFAULT_SLOT_DURATION_MS } from "@metronome/clock";

describe("the clock's defaults are the chain's timing", () => {
  it("slot length and intervals per slot", () => {
    assert.equal(DEFAULT_SLOT_DURATION_MS, SECONDS_PER_SLOT * 1000);
    assert.equal(DEFAULT_INTERVALS_PER_SLOT, INTERVALS_PER_SLOT);
  });
});

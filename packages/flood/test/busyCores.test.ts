// The flood benchmark's "other cores busy" baseline: the spinners really run during the
// measurement and are gone after it, even when the measurement throws.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withOtherCoresBusy } from "../src/busyCores.ts";

function waitForSpins(spins: () => number, atLeast: number, deadlineMs: number): number {
  const deadline = performance.now() + deadlineMs;
  while (spins() < atLeast) {
    if (performance.now() > deadline) throw new Error(`spinners made ${spins()} turns in ${deadlineMs} ms`);
  }
  return spins();
}

describe("withOtherCoresBusy", () => {
  it("runs the measurement while the spinners turn, returns its result and stops them", async () => {
    let spinsAfter: () => number = () => 0;
    const result = await withOtherCoresBusy((spins) => {
      spinsAfter = spins;
      return waitForSpins(spins, 1000, 10_000);
    }, 1);
    assert.ok(result >= 1000);
    const stoppedAt = spinsAfter();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(spinsAfter(), stoppedAt, "no spinner is left running");
  });

  it("stops the spinners when the measurement throws", async () => {
    let spins: () => number = () => 0;
    await assert.rejects(
      withOtherCoresBusy((s) => {
        spins = s;
        waitForSpins(s, 1, 10_000);
        throw new Error("measurement failed");
      }, 1),
      /measurement failed/,
    );
    const stoppedAt = spins();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(spins(), stoppedAt);
  });
});

// The slot logger's line for a late tick: which slot and interval, only past the threshold, never
// for intervals replayed after a stall (their lateness is the stall's, already on its own line).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Logger } from "@metronome/common";
import { LATE_TICK_LOG_MS, SlotLogger } from "../../src/node/slotLogger.ts";

function logged() {
  const lines: string[] = [];
  const logger = new Logger({ level: "info", format: "json", write: (line) => lines.push(line) });
  return { slotLogger: new SlotLogger(logger), lines };
}

describe("SlotLogger: late ticks", () => {
  it("names the slot, the interval and the lateness of a tick past the threshold", () => {
    const { slotLogger, lines } = logged();
    assert.equal(slotLogger.lateTick({ slot: 12, intervalInSlot: 2, lateMs: 37.6, caughtUp: false }), true);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(line.msg, "interval tick late");
    assert.equal(line.slot, 12);
    assert.equal(line.interval, 2);
    assert.equal(line.late_ms, 38);
  });

  it("stays quiet below the threshold and for replayed intervals", () => {
    const { slotLogger, lines } = logged();
    slotLogger.lateTick({ slot: 1, intervalInSlot: 0, lateMs: LATE_TICK_LOG_MS - 0.1, caughtUp: false });
    slotLogger.lateTick({ slot: 1, intervalInSlot: 1, lateMs: 900, caughtUp: true });
    assert.deepEqual(lines, []);
  });
});

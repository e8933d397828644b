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
    assert.equal(
      slotLogger.lateTick({ slot: 12, intervalInSlot: 2, lateMs: 37.6, caughtUp: false, boundaryMs: 1_000 }),
      true,
    );
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(line.msg, "interval tick late");
    assert.equal(line.slot, 12);
    assert.equal(line.interval, 2);
    assert.equal(line.late_ms, 38);
  });

  it("stays quiet below the threshold and for replayed intervals", () => {
    const { slotLogger, lines } = logged();
    slotLogger.lateTick({ slot: 1, intervalInSlot: 0, lateMs: LATE_TICK_LOG_MS - 0.1, caughtUp: false, boundaryMs: 0 });
    slotLogger.lateTick({ slot: 1, intervalInSlot: 1, lateMs: 900, caughtUp: true, boundaryMs: 0 });
    assert.deepEqual(lines, []);
  });

  it("splits the lateness into the driver thread's time on a CPU and waiting for one", () => {
    const { slotLogger, lines } = logged();
    const asked: number[] = [];
    const cpu = {
      explain: (boundaryMs: number) => {
        asked.push(boundaryMs);
        return { windowMs: 61.04, onCpuMs: 3.26, cpuWaitMs: 38.71 };
      },
    };
    slotLogger.lateTick({ slot: 7, intervalInSlot: 1, lateMs: 41, caughtUp: false, boundaryMs: 29_000 }, cpu);
    assert.deepEqual(asked, [29_000], "asked about the late tick's own boundary");
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(line.window_ms, 61);
    assert.equal(line.on_cpu_ms, 3.3);
    assert.equal(line.cpu_wait_ms, 38.7);
  });

  it("reads nothing for a tick on time, and logs without the split when there is none", () => {
    const { slotLogger, lines } = logged();
    let asked = 0;
    const cpu = {
      explain: () => {
        asked++;
        return null;
      },
    };
    slotLogger.lateTick({ slot: 1, intervalInSlot: 0, lateMs: 2, caughtUp: false, boundaryMs: 0 }, cpu);
    assert.equal(asked, 0, "an on-time tick costs no /proc read");
    slotLogger.lateTick({ slot: 1, intervalInSlot: 1, lateMs: 30, caughtUp: false, boundaryMs: 0 }, cpu);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(line.late_ms, 30);
    assert.equal("cpu_wait_ms" in line, false);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClockOptionsError, formatSlotInterval, SlotClock } from "../src/index.ts";

const GENESIS_SEC = 1_700_000_000;
const G = GENESIS_SEC * 1000;

function clockAt(nowMs: number, extra: { slotDurationMs?: number; intervalsPerSlot?: number } = {}): SlotClock {
  return new SlotClock({ genesisTimeSec: GENESIS_SEC, now: () => nowMs, ...extra });
}

describe("SlotClock defaults", () => {
  it("uses 4 s slots of five 800 ms intervals", () => {
    const c = clockAt(G);
    assert.equal(c.slotDurationMs, 4000);
    assert.equal(c.intervalsPerSlot, 5);
    assert.equal(c.intervalDurationMs, 800);
    assert.equal(c.genesisMs, G);
  });

  it("defaults now to the wall clock", () => {
    const c = new SlotClock({ genesisTimeSec: 0 });
    const before = Date.now();
    const n = c.now();
    assert.ok(n >= before && n <= Date.now());
  });
});

describe("SlotClock interval math", () => {
  it("puts an exact boundary in the interval that starts there", () => {
    assert.equal(clockAt(G).currentInterval(), 0);
    assert.equal(clockAt(G + 799).currentInterval(), 0);
    assert.equal(clockAt(G + 800).currentInterval(), 1);
    assert.equal(clockAt(G + 3999).currentInterval(), 4);
    assert.equal(clockAt(G + 3999).currentSlot(), 0);
    assert.equal(clockAt(G + 4000).currentInterval(), 5);
    assert.equal(clockAt(G + 4000).currentSlot(), 1);
  });

  it("handles fractional milliseconds around a boundary", () => {
    const c = clockAt(G);
    assert.equal(c.intervalAt(G + 799.999), 0);
    assert.equal(c.intervalAt(G + 800), 1);
  });

  it("splits intervals into slot and position", () => {
    const c = clockAt(G);
    assert.equal(c.slotOfInterval(0), 0);
    assert.equal(c.slotOfInterval(4), 0);
    assert.equal(c.slotOfInterval(5), 1);
    assert.equal(c.slotOfInterval(57), 11);
    assert.equal(c.intervalInSlot(57), 2);
    assert.equal(c.intervalOf(11, 2), 57);
    assert.equal(c.startMsOfInterval(57), G + 57 * 800);
    assert.equal(c.startMsOfSlot(11), G + 44_000);
    assert.equal(c.startMsOfSlot(11), c.startMsOfInterval(c.intervalOf(11, 0)));
  });

  it("round-trips every interval start through intervalAt", () => {
    const c = clockAt(G);
    for (let i = 0; i < 50; i++) {
      assert.equal(c.intervalAt(c.startMsOfInterval(i)), i);
      assert.equal(c.intervalAt(c.startMsOfInterval(i) - 1), i - 1);
    }
  });

  it("waits a full interval when exactly on a boundary, never zero", () => {
    const c = clockAt(G + 1600);
    assert.equal(c.nextIntervalBoundaryMs(), G + 2400);
    assert.equal(c.msUntilNextInterval(), 800);
    assert.equal(clockAt(G + 1601).msUntilNextInterval(), 799);
    assert.equal(clockAt(G + 2399).msUntilNextInterval(), 1);
  });

  it("throws on a non-finite time instead of returning NaN", () => {
    assert.throws(() => clockAt(G).intervalAt(Number.NaN), RangeError);
    assert.throws(() => clockAt(Number.POSITIVE_INFINITY).currentInterval(), RangeError);
  });
});

describe("SlotClock before genesis", () => {
  it("reports negative intervals and slots and isBeforeGenesis", () => {
    const c = clockAt(G - 1);
    assert.equal(c.isBeforeGenesis(), true);
    assert.equal(c.currentInterval(), -1);
    assert.equal(c.currentSlot(), -1);
    assert.equal(c.intervalInSlot(-1), 4);
    assert.equal(clockAt(G - 4001).currentSlot(), -2);
    assert.equal(clockAt(G).isBeforeGenesis(), false);
  });

  it("next boundary before genesis is genesis itself", () => {
    const c = clockAt(G - 10_000);
    assert.equal(c.nextIntervalBoundaryMs(), G);
    assert.equal(c.msUntilNextInterval(), 10_000);
    assert.equal(clockAt(G - 1).msUntilNextInterval(), 1);
  });
});

describe("SlotClock with 1-second slots", () => {
  it("uses 200 ms intervals", () => {
    const c = clockAt(G + 1000, { slotDurationMs: 1000 });
    assert.equal(c.intervalDurationMs, 200);
    assert.equal(c.currentInterval(), 5);
    assert.equal(c.currentSlot(), 1);
    assert.equal(c.intervalAt(G + 1199), 5);
    assert.equal(c.intervalAt(G + 1200), 6);
    assert.equal(c.msUntilNextInterval(G + 1150), 50);
    assert.equal(c.startMsOfSlot(3), G + 3000);
  });
});

describe("SlotClock option validation", () => {
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ["negative genesis", { genesisTimeSec: -1 }, "genesisTimeSec"],
    ["fractional genesis", { genesisTimeSec: 1.5 }, "genesisTimeSec"],
    ["NaN genesis", { genesisTimeSec: Number.NaN }, "genesisTimeSec"],
    ["string genesis", { genesisTimeSec: "100" }, "genesisTimeSec"],
    ["genesis overflowing ms", { genesisTimeSec: Number.MAX_SAFE_INTEGER }, "genesisTimeSec"],
    ["zero slot", { genesisTimeSec: 0, slotDurationMs: 0 }, "slotDurationMs"],
    ["negative slot", { genesisTimeSec: 0, slotDurationMs: -4000 }, "slotDurationMs"],
    ["fractional slot", { genesisTimeSec: 0, slotDurationMs: 4000.5 }, "slotDurationMs"],
    ["slot not a multiple of intervals", { genesisTimeSec: 0, slotDurationMs: 1001 }, "slotDurationMs"],
    ["zero intervals", { genesisTimeSec: 0, intervalsPerSlot: 0 }, "intervalsPerSlot"],
    ["fractional intervals", { genesisTimeSec: 0, intervalsPerSlot: 2.5 }, "intervalsPerSlot"],
    ["now not a function", { genesisTimeSec: 0, now: 5 }, "now"],
  ];
  for (const [name, options, field] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => new SlotClock(options as never),
        (err: unknown) => err instanceof ClockOptionsError && err.option === field && err.message.startsWith(field),
      );
    });
  }

  it("explains the multiple-of rule", () => {
    assert.throws(
      () => new SlotClock({ genesisTimeSec: 0, slotDurationMs: 1001 }),
      /multiple of intervalsPerSlot \(5\)/,
    );
  });

  it("accepts other valid shapes", () => {
    const c = new SlotClock({ genesisTimeSec: 0, slotDurationMs: 12, intervalsPerSlot: 3 });
    assert.equal(c.intervalDurationMs, 4);
  });
});

describe("formatSlotInterval", () => {
  it("renders slot/interval", () => {
    assert.equal(formatSlotInterval(12, 3), "12/3");
    assert.equal(formatSlotInterval(0, 0), "0/0");
  });
});

// A period's cut-off and coverage figures from node 0's scrapes: counter deltas, first rises, and
// the late CPU window.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LATE_CPU_FROM_S, secondsUntil, summarizeCutoff } from "../src/cutoffSummary.ts";
import { probeSample as sample } from "./probeSampleFixture.ts";

describe("flood period: cut-off and honest-vote coverage", () => {
  it("coverage is applied / (applied + missing) over the period's counter deltas, not since start-up", () => {
    const s = summarizeCutoff([
      sample(0, { coverageApplied: 1000, coverageMissing: 500 }),
      sample(2, { coverageApplied: 1064, coverageMissing: 500, coverageRatio: 1 }),
      sample(4, { coverageApplied: 1126, coverageMissing: 502, coverageRatio: 30 / 32 }),
    ]);
    assert.equal(s.coverageVotes, 128);
    assert.equal(s.coveragePercent, (100 * 126) / 128);
    assert.equal(s.coverageMinPercent, (100 * 30) / 32);
  });

  it("times the first graylisting and score disconnection from the period's start", () => {
    const s = summarizeCutoff([
      sample(0, { graylistedTotal: 2, scoreDisconnectsTotal: 1, connectedPeers: 4 }),
      sample(2, { graylistedTotal: 2, scoreDisconnectsTotal: 1, connectedPeers: 20 }),
      sample(4, { graylistedTotal: 18, scoreDisconnectsTotal: 1, connectedPeers: 20 }),
      sample(6, { graylistedTotal: 18, scoreDisconnectsTotal: 17, connectedPeers: 4 }),
    ]);
    assert.equal(s.graylisted, 16);
    assert.equal(s.firstGraylistS, 4);
    assert.equal(s.scoreDisconnects, 16);
    assert.equal(s.firstScoreDisconnectS, 6);
    assert.deepEqual([s.connectedPeersMin, s.connectedPeersMax], [4, 20]);
    assert.deepEqual(s.graylistSteps, [{ s: 4, count: 16 }]);
    assert.deepEqual(s.disconnectSteps, [{ s: 6, count: 16 }]);
    assert.equal(secondsUntil(s.graylistSteps, 16), 4);
    assert.ok(Number.isNaN(secondsUntil(s.graylistSteps, 17)));
  });

  it("no graylisting gives NaN times, not zero", () => {
    const s = summarizeCutoff([sample(0), sample(2)]);
    assert.equal(s.graylisted, 0);
    assert.ok(Number.isNaN(s.firstGraylistS) && Number.isNaN(s.firstScoreDisconnectS));
  });

  it("late CPU counts only from LATE_CPU_FROM_S into the period", () => {
    const s = summarizeCutoff([
      sample(0, { cpuSeconds: 0 }),
      sample(LATE_CPU_FROM_S, { cpuSeconds: 100 }),
      sample(LATE_CPU_FROM_S + 10, { cpuSeconds: 105 }),
    ]);
    assert.equal(s.cpuPercentLate, 50);
    assert.ok(Number.isNaN(summarizeCutoff([sample(0), sample(30)]).cpuPercentLate));
  });
});

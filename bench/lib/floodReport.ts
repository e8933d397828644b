// The flood benchmark's table (a column per period) and the JSON shape of its results, built from
// the period results alone (pure, tested). A recovery period's end gives "RSS N s after" of the
// flood it follows, reported in that flood's column.
import type { CapacityResult } from "../../packages/flood/src/capacity.ts";
import { type CutoffStep, secondsUntil } from "../../packages/flood/src/cutoffSummary.ts";
import type { PeriodResult } from "./floodRunner.ts";
import type { Row } from "./report.ts";

/** Capacity on one mix, and the share of its messages that need a signature check. */
export interface MixCapacity {
  mix: string;
  capacity: CapacityResult;
  verifiedShare: number;
}

/** One point of the capacity curve: a single-peer flood on the main mix, or the no-flood baseline. */
export interface CurvePoint {
  period: string;
  /** Multiple of capacity (0 for the baseline; NaN when the rate was fixed). */
  multiple: number;
  rate: number;
  tickLatenessP99Ms: number;
  tickLatenessMaxMs: number;
  headFinalizedMax: number;
  intervalsMissed: number;
  coveragePercent: number;
}

const fmt = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : "-");

/** When the period's flooding identities had all been cut off ("-" for a quiet period or never). */
function allCut(r: PeriodResult, steps: readonly CutoffStep[]): string {
  const peers = r.plan.flood?.peers;
  return peers === undefined ? "-" : fmt(secondsUntil(steps, peers));
}

/** The recovery period that follows `flood`, if any. */
export function recoveryOf(results: readonly PeriodResult[], flood: PeriodResult): PeriodResult | undefined {
  return results.find((r) => r.plan.after === flood.plan.name);
}

export function curvePoints(results: readonly PeriodResult[]): CurvePoint[] {
  return results
    .filter((r) => r.plan.role === "baseline" || r.plan.role === "curve")
    .map((r) => ({
      period: r.plan.name,
      multiple: r.plan.role === "baseline" ? 0 : (r.plan.flood?.multiple ?? Number.NaN),
      rate: r.rate ?? 0,
      tickLatenessP99Ms: r.summary.tickLatenessP99Ms,
      tickLatenessMaxMs: r.summary.tickLatenessMaxBoundMs,
      headFinalizedMax: r.summary.headFinalizedGapMax,
      intervalsMissed: r.summary.intervalsMissed,
      coveragePercent: r.summary.cutoff.coveragePercent,
    }));
}

/** Verification figures are compared with the same-batch blst baseline on this period's mix. */
function capacityFor(r: PeriodResult, capacities: readonly MixCapacity[]): CapacityResult | undefined {
  const mix = r.plan.flood?.mix ?? capacities[0]?.mix;
  return capacities.find((c) => c.mix === mix)?.capacity;
}

export function floodRows(
  results: readonly PeriodResult[],
  capacities: readonly MixCapacity[],
  warmupS: number,
): Row[] {
  const row = (figure: string, f: (r: PeriodResult) => string | number): Row => {
    const out: Row = { figure };
    for (const r of results) out[r.plan.name] = f(r);
    return out;
  };
  const idle = (r: PeriodResult) => capacityFor(r, capacities)?.sameBatchBlstSetsPerSec ?? Number.NaN;
  const busy = (r: PeriodResult) => capacityFor(r, capacities)?.sameBatchBlstOtherCoresBusySetsPerSec ?? Number.NaN;
  const idlePerCpu = (r: PeriodResult) => capacityFor(r, capacities)?.sameBatchBlstSetsPerCpuSec ?? Number.NaN;
  const after = (r: PeriodResult) => (r.flood === null ? undefined : recoveryOf(results, r));
  const dropKeys = [...new Set(results.flatMap((r) => Object.keys(r.summary.drops)))].sort();
  const s = (r: PeriodResult) => r.summary;
  return [
    row("period length s", (r) => fmt(s(r).durationS)),
    row("node 0 flags", (r) => (r.plan.nodeArgs.length === 0 ? "-" : r.plan.nodeArgs.join(" "))),
    // The main mix is printed once above the table; only other mixes are spelled out.
    row("flood mix", (r) => {
      const mix = r.plan.flood?.mix;
      return mix === undefined ? "-" : mix === capacities[0]?.mix ? "--mix" : mix;
    }),
    row("flood x capacity", (r) => (r.plan.flood?.multiple == null ? "-" : `${r.plan.flood.multiple}x`)),
    row("flood asked / achieved msgs/s", (r) => (r.flood ? `${r.flood.rate} / ${fmt(r.flood.achievedRate)}` : "-")),
    row("flood peers x msgs/s each", (r) => (r.flood ? `${r.flood.peers} x ${fmt(r.flood.perPeerRate)}` : "-")),
    row("flooder CPU %", (r) => fmt(r.flooderCpuPercent)),
    row("other nodes CPU % (summed; 100 = a core)", (r) => fmt(r.othersCpuPercent)),
    row("node 0 CPU % (all threads)", (r) => fmt(s(r).cpuPercent)),
    row("node 0 CPU % from 60 s in", (r) => fmt(s(r).cutoff.cpuPercentLate)),
    row("interval ticks", (r) => fmt(s(r).ticks)),
    row("tick lateness p50 ms (histogram)", (r) => fmt(s(r).tickLatenessP50Ms, 1)),
    row("tick lateness p99 ms (histogram)", (r) => fmt(s(r).tickLatenessP99Ms, 1)),
    row("tick lateness max ms (<= bucket)", (r) => fmt(s(r).tickLatenessMaxBoundMs)),
    row("ticks later than 100 ms", (r) => fmt(s(r).ticksLaterThan100Ms)),
    row("intervals missed (counter)", (r) => fmt(s(r).intervalsMissed)),
    row("last tick age max ms (health)", (r) => fmt(s(r).lastTickAgeMaxMs)),
    row("driver pass p99 ms", (r) => fmt(s(r).driverPassP99Ms, 1)),
    row(
      "driver thread on a CPU / waiting for one, ms per s",
      (r) => `${fmt(s(r).driverOnCpuMsPerSec, 1)} / ${fmt(s(r).driverCpuWaitMsPerSec, 1)}`,
    ),
    row(
      "driver GC pauses: scavenge ms per s / mean ms, mark-compact ms per s",
      (r) =>
        `${fmt(s(r).driverScavengeMsPerSec, 1)} / ${fmt(s(r).driverScavengeMeanMs, 1)}, ${fmt(s(r).driverMarkCompactMsPerSec, 1)}`,
    ),
    row("kernel reclaim threads (kdamond, kswapd) CPU ms per s", (r) => fmt(s(r).reclaimCpuMsPerSec, 1)),
    row("head - finalized max slots", (r) => fmt(s(r).headFinalizedGapMax)),
    row("clock - head max slots", (r) => fmt(s(r).currentHeadGapMax)),
    row("finalized slot start -> end", (r) => `${fmt(s(r).finalizedStart)} -> ${fmt(s(r).finalizedEnd)}`),
    row("honest-vote coverage % (lowest slot %)", (r) =>
      s(r).cutoff.coverageVotes > 0
        ? `${fmt(s(r).cutoff.coveragePercent, 2)} (${fmt(s(r).cutoff.coverageMinPercent)})`
        : "-",
    ),
    row("peers graylisted / first / all flooders after s", (r) => {
      const c = s(r).cutoff;
      return `${fmt(c.graylisted)} / ${fmt(c.firstGraylistS)} / ${allCut(r, c.graylistSteps)}`;
    }),
    row("peers score-disconnected / first / all flooders after s", (r) => {
      const c = s(r).cutoff;
      return `${fmt(c.scoreDisconnects)} / ${fmt(c.firstScoreDisconnectS)} / ${allCut(r, c.disconnectSteps)}`;
    }),
    row(
      "node 0 peers min / max",
      (r) => `${fmt(s(r).cutoff.connectedPeersMin)} / ${fmt(s(r).cutoff.connectedPeersMax)}`,
    ),
    row("signature checks/s (gossip attestations)", (r) => fmt(s(r).verificationsPerSec)),
    row(
      "  accepted / buffered / bad sig per s",
      (r) => `${fmt(s(r).acceptedPerSec)} / ${fmt(s(r).bufferedPerSec)} / ${fmt(s(r).invalidSignaturePerSec)}`,
    ),
    row("  sets per verifier busy second", (r) => fmt(s(r).setsPerBusySecond)),
    row("  same, vs same-batch blst on one idle thread %", (r) => fmt((100 * s(r).setsPerBusySecond) / idle(r))),
    row("  same, vs same-batch blst with the other cores busy %", (r) => fmt((100 * s(r).setsPerBusySecond) / busy(r))),
    row("  verifier busy share of the wall clock %", (r) => fmt(100 * s(r).verifierBusyShare)),
    row("  sets per verifier-thread CPU second", (r) => fmt(s(r).setsPerVerifierCpuSecond)),
    row("  same, vs same-batch blst per CPU second, idle %", (r) =>
      fmt((100 * s(r).setsPerVerifierCpuSecond) / idlePerCpu(r)),
    ),
    ...dropKeys.map((k) => row(`drops: ${k}`, (r) => fmt(s(r).drops[k] ?? 0))),
    row("pending buffer max seen (per kind)", (r) => fmt(s(r).pendingMax)),
    row("pending evicted", (r) => fmt(s(r).pendingEvicted)),
    row("attestation queue max seen", (r) => fmt(s(r).attestationQueueMax)),
    row("event-loop delay max ms", (r) => fmt(s(r).eventLoopMaxMs)),
    row("RSS start / max MiB", (r) => `${fmt(s(r).rssStartMiB)} / ${fmt(s(r).rssMaxMiB)}`),
    row(`RSS growth after ${warmupS} s warm-up MiB`, (r) => fmt(s(r).rssGrowthAfterWarmupMiB, 1)),
    row("RSS after the flood: s later / MiB", (r) => {
      const rec = after(r);
      return rec === undefined ? "-" : `${fmt(rec.summary.durationS)} / ${fmt(rec.summary.rssEndMiB)}`;
    }),
    row("failed scrapes", (r) => fmt(s(r).failedScrapes)),
  ];
}

/** The JSON "results" object: capacities, the table, the curve, and each period without its raw samples. */
export function floodResultsJson(
  results: readonly PeriodResult[],
  capacities: readonly MixCapacity[],
  rows: readonly Row[],
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    capacities,
    rows,
    curve: curvePoints(results),
    periods: results.map((r) => ({
      name: r.plan.name,
      role: r.plan.role,
      nodeArgs: r.plan.nodeArgs,
      after: r.plan.after,
      flood: r.plan.flood,
      rate: r.rate,
      flooderCpuPercent: r.flooderCpuPercent,
      othersCpuPercent: r.othersCpuPercent,
      summary: r.summary,
      flooder: r.flood,
    })),
    ...extra,
  };
}

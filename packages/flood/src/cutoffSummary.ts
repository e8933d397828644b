// What a period did to the flooders and to honest votes, from node 0's own metrics: how soon the
// flooding peers were graylisted and disconnected for their score (counter rises, so the times are
// as precise as the scrape interval), the share of honest votes fork choice still counted
// (metronome_vote_coverage_*), and node 0's CPU once the flooders should have been cut off.
import type { ProbeSample } from "./probeSample.ts";

/** The issue's "60 s after the flood starts": node 0's CPU from then on shows whether cut-off worked. */
export const LATE_CPU_FROM_S = 60;

export interface CutoffStep {
  s: number;
  count: number;
}

export interface CutoffSummary {
  /** Peers that crossed below the graylist threshold during the period. */
  graylisted: number;
  /** Seconds from the period's start to the first scrape showing a graylisting (NaN: none). */
  firstGraylistS: number;
  /** Peers disconnected and banned for their score during the period. */
  scoreDisconnects: number;
  firstScoreDisconnectS: number;
  /** Each rise of the two counters: seconds from the period's start and the count so far in the period. */
  graylistSteps: CutoffStep[];
  disconnectSteps: CutoffStep[];
  connectedPeersMin: number;
  connectedPeersMax: number;
  /** Honest-vote coverage over every slot measured in the period, in %. */
  coveragePercent: number;
  /** The lowest single-slot coverage seen at a scrape, in %. */
  coverageMinPercent: number;
  /** Validator votes checked for coverage in the period (validators x slots). */
  coverageVotes: number;
  /** Node 0's CPU (all threads, %) from LATE_CPU_FROM_S into the period to its end. */
  cpuPercentLate: number;
}

function firstRiseS(samples: readonly ProbeSample[], value: (s: ProbeSample) => number): number {
  const first = samples[0];
  if (first === undefined) return Number.NaN;
  const rise = samples.find((s) => value(s) > value(first));
  return rise === undefined ? Number.NaN : (rise.t - first.t) / 1000;
}

function steps(samples: readonly ProbeSample[], value: (s: ProbeSample) => number): CutoffStep[] {
  const first = samples[0];
  if (first === undefined) return [];
  const out: CutoffStep[] = [];
  let last = value(first);
  for (const s of samples) {
    const v = value(s);
    if (v > last) out.push({ s: (s.t - first.t) / 1000, count: v - value(first) });
    if (Number.isFinite(v)) last = v;
  }
  return out;
}

/** Seconds until at least `count` peers had been cut off (NaN: never). */
export function secondsUntil(steps: readonly CutoffStep[], count: number): number {
  return steps.find((step) => step.count >= count)?.s ?? Number.NaN;
}

function finiteMin(values: number[]): number {
  const f = values.filter(Number.isFinite);
  return f.length === 0 ? Number.NaN : Math.min(...f);
}

function finiteMax(values: number[]): number {
  const f = values.filter(Number.isFinite);
  return f.length === 0 ? Number.NaN : Math.max(...f);
}

export function summarizeCutoff(samples: readonly ProbeSample[]): CutoffSummary {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || samples.length < 2) {
    return {
      graylisted: Number.NaN,
      firstGraylistS: Number.NaN,
      scoreDisconnects: Number.NaN,
      firstScoreDisconnectS: Number.NaN,
      graylistSteps: [],
      disconnectSteps: [],
      connectedPeersMin: Number.NaN,
      connectedPeersMax: Number.NaN,
      coveragePercent: Number.NaN,
      coverageMinPercent: Number.NaN,
      coverageVotes: Number.NaN,
      cpuPercentLate: Number.NaN,
    };
  }
  const applied = last.coverageApplied - first.coverageApplied;
  const missing = last.coverageMissing - first.coverageMissing;
  const late = samples.find((s) => s.t >= first.t + LATE_CPU_FROM_S * 1000);
  const lateSeconds = late === undefined ? 0 : (last.t - late.t) / 1000;
  return {
    graylisted: last.graylistedTotal - first.graylistedTotal,
    firstGraylistS: firstRiseS(samples, (s) => s.graylistedTotal),
    scoreDisconnects: last.scoreDisconnectsTotal - first.scoreDisconnectsTotal,
    firstScoreDisconnectS: firstRiseS(samples, (s) => s.scoreDisconnectsTotal),
    graylistSteps: steps(samples, (s) => s.graylistedTotal),
    disconnectSteps: steps(samples, (s) => s.scoreDisconnectsTotal),
    connectedPeersMin: finiteMin(samples.map((s) => s.connectedPeers)),
    connectedPeersMax: finiteMax(samples.map((s) => s.connectedPeers)),
    coveragePercent: applied + missing > 0 ? (100 * applied) / (applied + missing) : Number.NaN,
    coverageMinPercent: 100 * finiteMin(samples.slice(1).map((s) => s.coverageRatio)),
    coverageVotes: applied + missing,
    cpuPercentLate:
      late !== undefined && late.cpuSeconds !== null && last.cpuSeconds !== null && lateSeconds > 0
        ? (100 * (last.cpuSeconds - late.cpuSeconds)) / lateSeconds
        : Number.NaN,
  };
}

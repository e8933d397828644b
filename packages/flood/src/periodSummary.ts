// A period's figures (no flood, flood, ...) from the scrapes taken during it. Gauges (fetches in
// flight, pending buffer, RSS) are only seen at scrape times, so their maxima are lower bounds;
// counters and histograms are exact between two scrapes.
import type { NodeHealth } from "@metronome/api";
import { type CutoffSummary, summarizeCutoff } from "./cutoffSummary.ts";
import type { ProbeSample } from "./probeSample.ts";
import { type HistogramSnapshot, histogramDelta, histogramMaxBound, histogramQuantile } from "./promText.ts";

export interface PeriodSummary {
  name: string;
  durationS: number;
  samples: number;
  failedScrapes: number;
  ticks: number;
  tickLatenessP50Ms: number;
  tickLatenessP99Ms: number;
  /** Upper bound of the highest histogram bucket hit ("max <= this"). */
  tickLatenessMaxBoundMs: number;
  /** Ticks whose lateness fell in a bucket above 100 ms. */
  ticksLaterThan100Ms: number;
  /** The health route's largest last-tick age seen at scrape time. */
  lastTickAgeMaxMs: number;
  intervalsMissed: number;
  driverPassP99Ms: number;
  headFinalizedGapMax: number;
  currentHeadGapMax: number;
  finalizedStart: number;
  finalizedEnd: number;
  /** Signature checks the node ran on gossip attestations, per second (accepted + buffered + bad signature). */
  verificationsPerSec: number;
  /** Sets the BLS verifier checked per second of its own busy time, and its busy share of the wall clock. */
  setsPerBusySecond: number;
  verifierBusyShare: number;
  /**
   * Sets checked per CPU second of the verification threads (/proc), so time those threads spent
   * preempted (they run 10 nice steps below the driver by design) does not count as their cost.
   */
  setsPerVerifierCpuSecond: number;
  /** The driver thread's milliseconds on a CPU, and ready but waiting for one, per second of the period. */
  driverOnCpuMsPerSec: number;
  driverCpuWaitMsPerSec: number;
  /** The driver's garbage-collection pauses: scavenges, ms per second of the period and mean ms each; mark-compacts, ms per second. */
  driverScavengeMsPerSec: number;
  driverScavengeMeanMs: number;
  driverMarkCompactMsPerSec: number;
  /** Milliseconds per second the kernel's memory-reclaim threads ran, machine-wide (kdamond, kswapd). */
  reclaimCpuMsPerSec: number;
  acceptedPerSec: number;
  bufferedPerSec: number;
  invalidSignaturePerSec: number;
  /** Drops and refusals by reason over the period (counter deltas). */
  drops: Record<string, number>;
  blocksByRootInflightMax: number;
  blocksByRootInflightCap: number;
  fetchInflightCapRefusals: number;
  pendingMax: number;
  pendingEvicted: number;
  attestationQueueMax: number;
  eventLoopP99MsMax: number;
  eventLoopP99MsMedian: number;
  eventLoopMaxMs: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssMaxMiB: number;
  /** RSS at the end minus RSS at the first sample after the warm-up. */
  rssGrowthAfterWarmupMiB: number;
  heapUsedEndMiB: number;
  heapUsedMaxMiB: number;
  externalEndMiB: number;
  cpuPercent: number;
  /** Flooders' cut-off, honest-vote coverage and late CPU (cutoffSummary.ts). */
  cutoff: CutoffSummary;
  /**
   * RSS, the main thread's heap and off-heap memory, and the network worker's, about every 30 s of
   * the period (seconds since its start, MiB): which thread holds what RSS gains.
   */
  memorySeries: {
    s: number;
    rssMiB: number;
    heapUsedMiB: number;
    heapTotalMiB: number;
    externalMiB: number;
    networkHeapUsedMiB: number;
    networkHeapTotalMiB: number;
    networkExternalMiB: number;
    gossipOutboundMiB: number;
  }[];
}

const MEMORY_SERIES_STEP_MS = 30_000;

function mib(bytes: number): number {
  return bytes / 2 ** 20;
}

function memorySeries(samples: readonly ProbeSample[]): PeriodSummary["memorySeries"] {
  const first = samples[0];
  if (first === undefined) return [];
  const out: PeriodSummary["memorySeries"] = [];
  let nextAt = first.t;
  for (const sample of samples) {
    if (sample.t < nextAt && sample !== samples[samples.length - 1]) continue;
    out.push({
      s: Math.round((sample.t - first.t) / 1000),
      rssMiB: mib(sample.rssBytes),
      heapUsedMiB: mib(sample.heapUsedBytes),
      heapTotalMiB: mib(sample.heapTotalBytes),
      externalMiB: mib(sample.externalBytes),
      networkHeapUsedMiB: mib(sample.networkHeapUsedBytes),
      networkHeapTotalMiB: mib(sample.networkHeapTotalBytes),
      networkExternalMiB: mib(sample.networkExternalBytes),
      gossipOutboundMiB: mib(sample.gossipOutboundBufferedBytes),
    });
    nextAt = sample.t + MEMORY_SERIES_STEP_MS;
  }
  return out;
}

function countAbove(h: HistogramSnapshot, bound: number): number {
  const i = h.bounds.indexOf(bound);
  const total = h.counts[h.counts.length - 1] ?? 0;
  return i < 0 ? Number.NaN : total - (h.counts[i] as number);
}

function maxOf(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? Number.NaN : Math.max(...finite);
}

/** How much a cumulative figure grew per second over the period; NaN when either end is unknown. */
function perSecond(first: number | null, last: number | null, seconds: number): number {
  return first === null || last === null || !(seconds > 0) ? Number.NaN : (last - first) / seconds;
}

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}

function delta(first: Record<string, number>, last: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(last)) {
    const d = v - (first[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

const HEALTH_DROP_KEYS = /overload|verifier_dropped|queue_full|evicted|rejected|future_blocks|held|lane_holds/;

export function summarizeSamples(
  name: string,
  samples: ProbeSample[],
  failedScrapes: number,
  warmupS: number,
): PeriodSummary {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const empty: PeriodSummary = {
    name,
    durationS: 0,
    samples: samples.length,
    failedScrapes,
    ticks: 0,
    tickLatenessP50Ms: Number.NaN,
    tickLatenessP99Ms: Number.NaN,
    tickLatenessMaxBoundMs: Number.NaN,
    ticksLaterThan100Ms: Number.NaN,
    lastTickAgeMaxMs: Number.NaN,
    intervalsMissed: Number.NaN,
    driverPassP99Ms: Number.NaN,
    headFinalizedGapMax: Number.NaN,
    currentHeadGapMax: Number.NaN,
    finalizedStart: Number.NaN,
    finalizedEnd: Number.NaN,
    verificationsPerSec: Number.NaN,
    setsPerBusySecond: Number.NaN,
    verifierBusyShare: Number.NaN,
    setsPerVerifierCpuSecond: Number.NaN,
    driverOnCpuMsPerSec: Number.NaN,
    driverCpuWaitMsPerSec: Number.NaN,
    driverScavengeMsPerSec: Number.NaN,
    driverScavengeMeanMs: Number.NaN,
    driverMarkCompactMsPerSec: Number.NaN,
    reclaimCpuMsPerSec: Number.NaN,
    acceptedPerSec: Number.NaN,
    bufferedPerSec: Number.NaN,
    invalidSignaturePerSec: Number.NaN,
    drops: {},
    blocksByRootInflightMax: Number.NaN,
    blocksByRootInflightCap: Number.NaN,
    fetchInflightCapRefusals: Number.NaN,
    pendingMax: Number.NaN,
    pendingEvicted: Number.NaN,
    attestationQueueMax: Number.NaN,
    eventLoopP99MsMax: Number.NaN,
    eventLoopP99MsMedian: Number.NaN,
    eventLoopMaxMs: Number.NaN,
    rssStartMiB: Number.NaN,
    rssEndMiB: Number.NaN,
    rssMaxMiB: Number.NaN,
    rssGrowthAfterWarmupMiB: Number.NaN,
    heapUsedEndMiB: Number.NaN,
    heapUsedMaxMiB: Number.NaN,
    externalEndMiB: Number.NaN,
    cpuPercent: Number.NaN,
    cutoff: summarizeCutoff([]),
    memorySeries: [],
  };
  if (first === undefined || last === undefined || samples.length < 2) return empty;
  const seconds = (last.t - first.t) / 1000;
  const tick = last.tickLateness === null ? null : histogramDelta(first.tickLateness, last.tickLateness);
  const pass = last.passDuration === null ? null : histogramDelta(first.passDuration, last.passDuration);
  const healths = samples.map((s) => s.health).filter((h): h is NodeHealth => h !== null);
  const h0 = first.health;
  const h1 = last.health;
  const healthDelta = (key: string) => (h1?.drops[key] ?? 0) - (h0?.drops[key] ?? 0);
  const accepted = healthDelta("attestation_accepted");
  const buffered = healthDelta("attestation_buffered");
  const badSig = healthDelta("attestation_INVALID_SIGNATURE");

  const drops: Record<string, number> = {};
  for (const [k, v] of Object.entries(delta(first.attestationDrops, last.attestationDrops))) drops[`gossip ${k}`] = v;
  for (const [k, v] of Object.entries(delta(first.decodeErrors, last.decodeErrors))) drops[`decode ${k}`] = v;
  if (h0 !== null && h1 !== null) {
    for (const [k, v] of Object.entries(delta(h0.drops, h1.drops))) if (HEALTH_DROP_KEYS.test(k)) drops[k] = v;
  }
  const afterWarmup = samples.filter((s) => s.t >= first.t + warmupS * 1000);
  const warm = afterWarmup[0];
  const cpu =
    first.cpuSeconds !== null && last.cpuSeconds !== null && seconds > 0
      ? (100 * (last.cpuSeconds - first.cpuSeconds)) / seconds
      : Number.NaN;

  return {
    ...empty,
    durationS: seconds,
    ticks: tick?.count ?? Number.NaN,
    tickLatenessP50Ms: tick ? histogramQuantile(tick, 0.5) * 1000 : Number.NaN,
    tickLatenessP99Ms: tick ? histogramQuantile(tick, 0.99) * 1000 : Number.NaN,
    tickLatenessMaxBoundMs: tick ? histogramMaxBound(tick) * 1000 : Number.NaN,
    ticksLaterThan100Ms: tick ? countAbove(tick, 0.1) : Number.NaN,
    lastTickAgeMaxMs: maxOf(healths.map((h) => h.last_tick_age_ms)),
    intervalsMissed: last.intervalsMissed - first.intervalsMissed,
    driverPassP99Ms: pass ? histogramQuantile(pass, 0.99) * 1000 : Number.NaN,
    headFinalizedGapMax: maxOf(healths.map((h) => h.head_slot - h.finalized_slot)),
    currentHeadGapMax: maxOf(healths.map((h) => h.current_slot - h.head_slot)),
    finalizedStart: h0?.finalized_slot ?? Number.NaN,
    finalizedEnd: h1?.finalized_slot ?? Number.NaN,
    verificationsPerSec: (accepted + buffered + badSig) / seconds,
    setsPerBusySecond:
      last.blsVerifySeconds > first.blsVerifySeconds
        ? (last.blsSetsVerified - first.blsSetsVerified) / (last.blsVerifySeconds - first.blsVerifySeconds)
        : Number.NaN,
    verifierBusyShare: seconds > 0 ? (last.blsVerifySeconds - first.blsVerifySeconds) / seconds : Number.NaN,
    setsPerVerifierCpuSecond:
      first.verifierCpuSeconds !== null &&
      last.verifierCpuSeconds !== null &&
      last.verifierCpuSeconds > first.verifierCpuSeconds
        ? (last.blsSetsVerified - first.blsSetsVerified) / (last.verifierCpuSeconds - first.verifierCpuSeconds)
        : Number.NaN,
    driverOnCpuMsPerSec: perSecond(first.driverCpuSeconds, last.driverCpuSeconds, seconds) * 1000,
    driverCpuWaitMsPerSec: perSecond(first.driverCpuWaitSeconds, last.driverCpuWaitSeconds, seconds) * 1000,
    driverScavengeMsPerSec: perSecond(first.gcScavengeSeconds, last.gcScavengeSeconds, seconds) * 1000,
    driverScavengeMeanMs:
      last.gcScavenges > first.gcScavenges
        ? ((last.gcScavengeSeconds - first.gcScavengeSeconds) / (last.gcScavenges - first.gcScavenges)) * 1000
        : Number.NaN,
    driverMarkCompactMsPerSec: perSecond(first.gcMarkCompactSeconds, last.gcMarkCompactSeconds, seconds) * 1000,
    reclaimCpuMsPerSec: perSecond(first.reclaimCpuSeconds, last.reclaimCpuSeconds, seconds) * 1000,
    acceptedPerSec: accepted / seconds,
    bufferedPerSec: buffered / seconds,
    invalidSignaturePerSec: badSig / seconds,
    drops,
    blocksByRootInflightMax: maxOf(samples.map((s) => s.blocksByRootInflight)),
    blocksByRootInflightCap: last.blocksByRootInflightCap,
    fetchInflightCapRefusals: (last.fetchDedup.inflight_cap ?? 0) - (first.fetchDedup.inflight_cap ?? 0),
    pendingMax: maxOf(samples.map((s) => Math.max(s.pendingSingle, s.pendingAggregated))),
    pendingEvicted: last.pendingEvicted - first.pendingEvicted,
    attestationQueueMax: maxOf(samples.map((s) => s.attestationQueueDepth)),
    eventLoopP99MsMax: maxOf(samples.slice(1).map((s) => s.eventLoopP99Ms)),
    eventLoopP99MsMedian: median(samples.slice(1).map((s) => s.eventLoopP99Ms)),
    eventLoopMaxMs: maxOf(samples.slice(1).map((s) => s.eventLoopMaxMs)),
    rssStartMiB: mib(first.rssBytes),
    rssEndMiB: mib(last.rssBytes),
    rssMaxMiB: mib(maxOf(samples.map((s) => s.rssBytes))),
    rssGrowthAfterWarmupMiB: warm === undefined || warm === last ? Number.NaN : mib(last.rssBytes - warm.rssBytes),
    heapUsedEndMiB: mib(last.heapUsedBytes),
    heapUsedMaxMiB: mib(maxOf(samples.map((s) => s.heapUsedBytes))),
    externalEndMiB: mib(last.externalBytes),
    cpuPercent: cpu,
    cutoff: summarizeCutoff(samples),
    memorySeries: memorySeries(samples),
  };
}

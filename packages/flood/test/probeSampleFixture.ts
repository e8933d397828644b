// A quiet scrape of the flooded node at t = tS seconds, for tests of the period summaries: every
// figure zero or empty unless the test says otherwise.
import type { ProbeSample } from "../src/probeSample.ts";

/** A quiet scrape of the flooded node at t = tS seconds; `over` sets the figures a test is about. */
export function probeSample(tS: number, over: Partial<ProbeSample> = {}): ProbeSample {
  return {
    t: 1_000_000 + tS * 1000,
    tickLateness: null,
    passDuration: null,
    intervalsMissed: 0,
    attestationDrops: {},
    decodeErrors: {},
    fetchDedup: {},
    blocksByRootInflight: 0,
    blocksByRootInflightCap: 8,
    pendingSingle: 0,
    pendingAggregated: 0,
    pendingEvicted: 0,
    attestationQueueDepth: 0,
    eventLoopP99Ms: 0,
    eventLoopMaxMs: 0,
    rssBytes: 0,
    heapUsedBytes: 0,
    heapTotalBytes: 0,
    networkHeapUsedBytes: 0,
    networkHeapTotalBytes: 0,
    networkExternalBytes: 0,
    gossipOutboundBufferedBytes: 0,
    externalBytes: 0,
    blsVerifySeconds: 0,
    blsSetsVerified: 0,
    attestationsValid: 0,
    attestationsInvalid: 0,
    graylistedTotal: 0,
    scoreDisconnectsTotal: 0,
    connectedPeers: 3,
    coverageApplied: 0,
    coverageMissing: 0,
    coverageRatio: 1,
    health: null,
    cpuSeconds: 0,
    verifierCpuSeconds: null,
    driverCpuSeconds: 0,
    driverCpuWaitSeconds: 0,
    reclaimCpuSeconds: null,
    ...over,
  };
}

// Feeds Prometheus from the components' own counters. Components keep plain numeric counters
// (testable without prom-client); this bridge mirrors them into the registry: gauges are set,
// cumulative counters are advanced by their delta since the last sync. Called every interval and
// before each scrape, so figures are at most one interval stale.

import type { BlsVerifierStats } from "@metronome/bls";
import { coverageShare, type StateTransitionTiming, type VoteCoverageStats } from "@metronome/chain";
import { readMainThreadCpuTimes, type ThreadCpuTimes } from "@metronome/clock/threadCpuTimes";
import type { Histogram, MetronomeMetrics } from "@metronome/metrics";
import {
  type BoundaryStats,
  boundaryDrops,
  type LabelledNetworkStats,
  type NetworkMemoryStats,
  type NetworkStats,
  type NetworkThreadHealth,
  type PeerScoreSummary,
} from "@metronome/network";
import type { DoppelgangerState } from "@metronome/validator";
import type { ChainEvents } from "../chain/chainEvents.ts";
import type { AttestationKind, ChainCounters, ChainObserver, OrphanPoolStats } from "../chain/interface.ts";
import type { WriteQueueStats } from "../db/writeQueue.ts";
import type { DutyCounters, DutyObserver } from "../validator/duties.ts";
import type { SigningGuardCounters } from "../validator/signingGuard.ts";
import { CounterTotals } from "./counterTotals.ts";
import {
  type GossipSizes,
  observeGossipSizes,
  syncNetworkCounters,
  syncNetworkMemory,
  syncPeerScores,
} from "./networkMetricsSync.ts";
import type { NodeView } from "./nodeView.ts";
import { RateSampler } from "./rateSampler.ts";

/**
 * Timings measured once per gossip message (attestation validation and verification) reach their
 * histogram at most this often per series: the hot path pays a clock read and a comparison, and a
 * flood cannot turn the histograms into per-message work.
 */
export const TIMING_SAMPLE_INTERVAL_MS = 100;

/** metronome_doppelganger_state's numbers (documented in its help). */
const DOPPELGANGER_STATE_VALUES: Readonly<Record<DoppelgangerState, number>> = {
  off: 0,
  waiting: 1,
  passed: 2,
  detected: 3,
};

export class MetricsBridge {
  private readonly m: MetronomeMetrics;
  private readonly totals = new CounterTotals();
  private lastTickAtMs = 0;
  private readonly validationSampler: RateSampler;
  private readonly verificationSamplers: Record<AttestationKind, RateSampler>;

  private readonly readDriverThreadCpu: () => ThreadCpuTimes | null;

  /**
   * `readDriverThreadCpu`: the driver thread's scheduler times (default: the main thread's, from
   * /proc; null where the kernel does not say, and the two counters then stay at 0).
   */
  constructor(
    metrics: MetronomeMetrics,
    opts: { sampleIntervalMs?: number; now?: () => number; readDriverThreadCpu?: () => ThreadCpuTimes | null } = {},
  ) {
    this.m = metrics;
    this.readDriverThreadCpu = opts.readDriverThreadCpu ?? readMainThreadCpuTimes;
    const interval = opts.sampleIntervalMs ?? TIMING_SAMPLE_INTERVAL_MS;
    this.validationSampler = new RateSampler(interval, opts.now);
    this.verificationSamplers = {
      single: new RateSampler(interval, opts.now),
      aggregated: new RateSampler(interval, opts.now),
    };
  }

  /** Event-time observations that a periodic sync would lose. */
  observeEvents(events: ChainEvents): void {
    events.on("chain_reorg", (e) => {
      this.m.forkChoice.reorgs.inc();
      this.m.forkChoice.reorgDepth.observe(e.depth);
    });
    events.on("finalized_checkpoint", () => this.m.stateTransition.finalizations.inc({ result: "success" }));
  }

  onTick(lateMs: number, nowMs: number): void {
    const r = this.m.runtime;
    r.tickLatenessSeconds.observe(Math.max(0, lateMs) / 1000);
    r.ticks.inc();
    r.lastTickTimestampSeconds.set(nowMs / 1000);
    if (this.lastTickAtMs > 0)
      this.m.forkChoice.tickIntervalDurationSeconds.observe((nowMs - this.lastTickAtMs) / 1000);
    this.lastTickAtMs = nowMs;
  }

  onPass(batchSize: number, durationMs: number, idle = false): void {
    this.m.runtime.driverPasses.inc();
    if (batchSize > 0) this.m.runtime.driverBatchSize.observe(batchSize);
    // Under a flood most wake-ups find the verifier full and do nothing; observing them would bury
    // the passes that did work under thousands of microsecond ones.
    if (!idle) this.m.runtime.driverPassDurationSeconds.observe(durationMs / 1000);
  }

  onBlockProcessed(seconds: number): void {
    this.m.forkChoice.blockProcessingTimeSeconds.observe(seconds);
  }

  /** Once per imported block (gossip, fetched, own): the state transition's phases. */
  onStateTransition(t: StateTransitionTiming): void {
    const st = this.m.stateTransition;
    st.timeSeconds.observe(t.totalMs / 1000);
    st.slotsProcessingTimeSeconds.observe(t.slotsMs / 1000);
    st.blockProcessingTimeSeconds.observe(t.blockMs / 1000);
    st.attestationsProcessingTimeSeconds.observe(t.attestationsMs / 1000);
    st.slotsProcessed.inc(t.slots);
    st.attestationsProcessed.inc(t.attestations);
    this.m.runtime.blockVotes.observe(t.votes);
  }

  /** Once per finished verifier batch (worker job or main-thread chunk). */
  onBlsBatch(size: number): void {
    this.m.runtime.blsBatchSize.observe(size);
  }

  /** Attestation timings, called per gossip message: sampled (see TIMING_SAMPLE_INTERVAL_MS). */
  chainObserver(): ChainObserver {
    const pq = this.m.pqSig;
    const verification: Record<AttestationKind, Histogram<never>> = {
      single: pq.attestationVerificationTimeSeconds,
      aggregated: pq.aggregatedSignaturesVerificationTimeSeconds,
    };
    return {
      attestationValidated: (seconds) => {
        if (this.validationSampler.take()) this.m.forkChoice.attestationValidationTimeSeconds.observe(seconds);
      },
      signatureVerified: (kind, seconds) => {
        if (this.verificationSamplers[kind].take()) verification[kind].observe(seconds);
      },
    };
  }

  /** Validator duty timings: a few per slot, observed as they happen. */
  dutyObserver(): DutyObserver {
    const { blockProduction: bp, validator, pqSig, forkChoice } = this.m;
    return {
      blockBuilt: (seconds, attestations) => {
        bp.buildingTimeSeconds.observe(seconds);
        bp.aggregatedPayloads.observe(attestations);
      },
      blockAttestationsSelected: (seconds) => bp.payloadAggregationTimeSeconds.observe(seconds),
      attestationSigned: (seconds) => pqSig.attestationSigningTimeSeconds.observe(seconds),
      attestationsProduced: (seconds) => validator.attestationsProductionTimeSeconds.observe(seconds),
      aggregateBuilt: (seconds) => pqSig.aggregatedSignaturesBuildingTimeSeconds.observe(seconds),
      aggregationCycle: (seconds) => forkChoice.committeeSignaturesAggregationTimeSeconds.observe(seconds),
    };
  }

  /** The network worker's heap reducer: full collections and releases, each advanced by its delta. */
  syncNetworkHeapCollections(net: Pick<NetworkStats, "network_heap_full_collections" | "network_heap_releases">): void {
    const counter = this.m.runtime.networkThreadHeapCollections;
    this.totals.advance(counter, "network_heap_full", net.network_heap_full_collections, { kind: "full" });
    this.totals.advance(counter, "network_heap_release", net.network_heap_releases, { kind: "release" });
  }

  /** Network worker restarts (part of sync; 0 while the network runs on the main thread). */
  syncNetworkThread(health: Pick<NetworkThreadHealth, "restarts">): void {
    this.totals.advance(this.m.runtime.networkThreadRestarts, "network_thread_restarts", health.restarts);
  }

  /** The driver thread's time on a CPU and waiting for one, since the node started (part of sync). */
  syncDriverThreadCpu(): void {
    const times = this.readDriverThreadCpu();
    if (times === null) return;
    const { runtime } = this.m;
    this.totals.advance(runtime.driverThreadCpuSeconds, "driver_cpu", times.onCpuMs / 1000);
    this.totals.advance(runtime.driverThreadCpuWaitSeconds, "driver_cpu_wait", times.runQueueWaitMs / 1000);
  }

  /** Mirrors every component counter and gauge into the registry. */
  sync(node: NodeView): void {
    const { m } = this;
    const chain = node.chain;
    m.forkChoice.headSlot.set(chain.head.slot);
    m.forkChoice.currentSlot.set(Math.max(0, node.clock.currentSlot()));
    m.forkChoice.safeTargetSlot.set(chain.safeTarget.slot);
    m.stateTransition.latestJustifiedSlot.set(chain.justified.slot);
    m.stateTransition.latestFinalizedSlot.set(chain.finalized.slot);
    m.stateTransition.justifiedSlot.set(chain.justified.slot);
    m.stateTransition.finalizedSlot.set(chain.finalized.slot);
    m.forkChoice.latestKnownAggregatedPayloads.set(chain.aggregatePoolSize);
    m.setSyncStatus(node.sync.state.toLowerCase() as "idle" | "syncing" | "synced");
    m.network.connectedPeers.set({ client: m.client }, node.network.peerCount());
    m.validator.validatorsCount.set(node.duties.indices.length);
    m.validator.isAggregator.set(node.duties.isAggregator ? 1 : 0);

    const stats = node.driver.stats;
    this.totals.advance(m.runtime.intervalsMissed, "intervals_missed", stats.intervalsMissed);
    this.syncDriverThreadCpu();

    const ingress = node.ingress;
    for (const [queue, q] of [
      ["block", ingress.blocks],
      ["aggregate", ingress.aggregates],
      ["attestation", ingress.attestations],
    ] as const) {
      m.runtime.queueDepth.set({ queue }, q.size);
      this.totals.advance(m.runtime.queueDropped, `queue_dropped_${queue}`, q.dropped.queue_full, {
        queue,
        reason: "queue_full",
      });
    }
    m.runtime.queueDepth.set({ queue: "block_signature" }, ingress.blocksInVerification);
    for (const kind of ["single", "aggregated"] as const) {
      for (const [reason, n] of Object.entries(ingress.drops[kind])) {
        this.totals.advance(m.runtime.gossipAttestationsDropped, `drop_${kind}_${reason}`, n, { kind, reason });
      }
      const s = chain.pendingStats(kind);
      m.runtime.pendingAttestationsSize.set({ kind }, s.size);
      this.totals.advance(m.runtime.pendingAttestationsEvicted, `pending_evicted_${kind}`, s.evicted, { kind });
      for (const [reason, n] of Object.entries(s.buffered)) {
        this.totals.advance(m.runtime.pendingAttestationsBuffered, `pending_buffered_${kind}_${reason}`, n, {
          kind,
          reason,
        });
      }
      for (const [outcome, n] of Object.entries(s.replayOutcomes)) {
        this.totals.advance(m.runtime.pendingAttestationsReplay, `pending_replay_${kind}_${outcome}`, n, {
          kind,
          outcome,
        });
      }
    }

    const fetcher = node.fetcher.stats();
    m.runtime.blocksByRootInflight.set(fetcher.inFlight);
    m.runtime.blocksByRootInflightMax.set(node.fetcher.maxInFlight);
    m.runtime.blockFetchWantedRoots.set(fetcher.wantedCount);
    this.totals.advanceEach(m.runtime.blockFetchDedup, "dedup", fetcher.dedupOutcomes, "outcome");
    this.syncOrphans(chain.orphanStats);

    const net = node.network.stats();
    // A topic that does not parse has no kind (decode failures by kind are in syncNetwork).
    this.totals.advance(m.runtime.gossipDecodeErrors, "decode_bad_topic", net.gossip_rejected_bad_topic, {
      topic: "unknown",
      reason: "bad_topic",
    });
    const sse = node.eventStream?.stats();
    if (sse) {
      m.runtime.sseSubscribers.set(sse.subscribers);
      this.totals.advance(m.runtime.sseDropped, "sse_slow", sse.slowConsumerDrops, { reason: "slow_consumer" });
      this.totals.advance(m.runtime.sseDropped, "sse_full", sse.rejectedFull, { reason: "too_many_subscribers" });
    }
    const api = node.apiStats;
    m.runtime.httpOpenConnections.set(api.openConnections);
    this.totals.advanceEach(m.runtime.httpConnectionsDropped, "http_drop", api.connectionsDropped, "reason");
    this.totals.advanceEach(m.runtime.httpRequestsRefused, "http_refused", api.requestsRefused, "reason");
    this.totals.advanceEach(m.runtime.httpApiSignatures, "http_sig", api.signatures, "result");
    const counters = chain.counters;
    this.totals.advance(m.forkChoice.attestationsValid, "attestations_valid", counters.attestationsAccepted);
    const invalid = Object.values(counters.attestationsRejected).reduce((a, b) => a + b, 0);
    this.totals.advance(m.forkChoice.attestationsInvalid, "attestations_invalid", invalid);
    this.totals.advance(m.blockProduction.buildingSuccess, "blocks_built", node.duties.counters.blocksProposed);
    this.totals.advance(
      m.blockProduction.buildingFailures,
      "blocks_failed",
      node.duties.counters.blockProposalFailures,
    );

    this.syncSigningGuard(node.signingGuard.counters, node.signingGuard.doppelganger.state(node.clock.currentSlot()));
    m.forkChoice.gossipSignatures.set(node.duties.heldVotes);
    m.forkChoice.latestNewAggregatedPayloads.set(chain.newVoteCount);
    m.network.gossipMeshPeers.set({ client: m.client }, node.network.meshPeerCount());
    this.syncSignatures(counters.signatures, node.duties.counters);
    this.syncDatabase(chain.writeStats());
    this.syncVerifier(node.verifier.stats());
    this.syncNetwork(node.network.labelledStats());
    this.observeGossipSizes(node.network.drainGossipSizes());
    this.syncPeerScores(node.network.peerScoreStats(), node.network.drainPeerScoreSamples());
    this.syncNetworkMemory(node.network.memoryStats(), net.reqresp_outbound_budget_refusals);
    this.totals.advance(
      m.runtime.gossipOutboundLostDisconnects,
      "gossip_outbound_lost",
      net.gossip_outbound_lost_disconnects,
    );
    this.syncNetworkHeapCollections(net);
    this.syncNetworkThread(node.network.threadHealth());
    this.syncVoteCoverage(chain.voteCoverage);
    const boundary = node.network.boundaryStats();
    // The network worker's gossip channel (no such queue while the network runs on the main thread).
    if (boundary !== null) this.syncGossipBoundary(boundary);
  }

  /** The network worker's gossip boundary: depth, holds, drops by reason, refusals before decode. */
  syncGossipBoundary(boundary: BoundaryStats): void {
    const r = this.m.runtime;
    r.queueDepth.set({ queue: "gossip_boundary" }, boundary.pendingItems);
    r.queueDepth.set({ queue: "gossip_boundary_holds" }, boundary.holds);
    for (const [reason, n] of Object.entries(boundaryDrops(boundary))) {
      this.totals.advance(r.queueDropped, `gossip_boundary_${reason}`, n, { queue: "gossip_boundary", reason });
    }
    for (const [topic, n] of Object.entries(boundary.refusedBeforeDecode)) {
      this.totals.advance(r.gossipRefusedBeforeDecode, `gossip_refused_before_decode_${topic}`, n, { topic });
    }
  }

  /** The orphan-block pool: what it holds, and its drops by reason. */
  syncOrphans(stats: OrphanPoolStats): void {
    const r = this.m.runtime;
    r.orphanBlocks.set(stats.blocks);
    r.orphanBlocksBytes.set(stats.bytes);
    this.totals.advance(r.orphanBlocksDropped, "orphans_evicted_count", stats.evictedForCount, {
      reason: "evicted_count",
    });
    this.totals.advance(r.orphanBlocksDropped, "orphans_evicted_bytes", stats.evictedForBytes, {
      reason: "evicted_bytes",
    });
    this.totals.advance(r.orphanBlocksDropped, "orphans_too_large", stats.refusedTooLarge, { reason: "too_large" });
  }

  /** Honest-vote coverage: the last slot's share, and running totals of applied and missing votes. */
  syncVoteCoverage(stats: VoteCoverageStats): void {
    const c = this.m.voteCoverage;
    if (stats.last !== null) c.ratio.set(coverageShare(stats.last));
    this.totals.advance(c.votes, "vote_coverage_applied", stats.applied, { result: "applied" });
    this.totals.advance(c.votes, "vote_coverage_missing", stats.expected - stats.applied, { result: "missing" });
  }

  /** Slashing-protection refusals and the doppelganger watch of the in-node validators. */
  syncSigningGuard(counters: SigningGuardCounters, state: DoppelgangerState): void {
    const r = this.m.runtime;
    this.totals.advanceTable(r.slashingProtectionRefusals, "sp_refused", counters.refusals, "duty", "reason");
    for (const duty of ["block", "attestation"] as const) {
      this.totals.advance(r.slashingProtectionRefusals, `sp_refused_${duty}_error`, counters.protectionErrors[duty], {
        duty,
        reason: "error",
      });
    }
    this.totals.advanceTable(
      r.doppelgangerSkipped,
      "doppelganger_skipped",
      counters.doppelgangerSkips,
      "duty",
      "reason",
    );
    r.doppelgangerState.set(DOPPELGANGER_STATE_VALUES[state]);
  }

  /** lean_pq_sig_* counters and lean_aggregator_skipped_total. */
  syncSignatures(verdicts: ChainCounters["signatures"], duties: DutyCounters): void {
    const pq = this.m.pqSig;
    this.totals.advance(pq.attestationSignatures, "sig_attestations_signed", duties.attestationsProduced);
    this.totals.advance(pq.attestationSignaturesValid, "sig_single_valid", verdicts.single.valid);
    this.totals.advance(pq.attestationSignaturesInvalid, "sig_single_invalid", verdicts.single.invalid);
    this.totals.advance(pq.aggregatedSignatures, "sig_aggregates_built", duties.aggregatesBuilt);
    this.totals.advance(pq.attestationsInAggregatedSignatures, "sig_aggregated_votes", duties.attestationsAggregated);
    this.totals.advance(pq.aggregatedSignaturesValid, "sig_aggregated_valid", verdicts.aggregated.valid);
    this.totals.advance(pq.aggregatedSignaturesInvalid, "sig_aggregated_invalid", verdicts.aggregated.invalid);
    this.totals.advanceEach(
      this.m.validator.aggregatorSkipped,
      "aggregator_skipped",
      duties.aggregationSkipped,
      "reason",
    );
  }

  /** The database write queue: depth, bytes, failures and back-pressure. */
  syncDatabase(stats: WriteQueueStats): void {
    const r = this.m.runtime;
    r.dbWriteQueueWrites.set(stats.writes);
    r.dbWriteQueueBytes.set(stats.bytes);
    r.dbWriteConsecutiveFailures.set(stats.consecutiveFailures);
    r.dbBackpressure.set(stats.backpressure ? 1 : 0);
    for (const kind of ["block", "finality"] as const) {
      this.totals.advance(r.dbWrites, `db_written_${kind}`, stats.written[kind], { kind });
      this.totals.advance(r.dbWriteFailures, `db_failures_${kind}`, stats.failures[kind], { kind });
    }
    this.totals.advance(r.dbFinalitySuperseded, "db_superseded", stats.superseded);
    this.totals.advance(r.dbImportsRefused, "db_refused", stats.refused);
  }

  /** The BLS verifier's running totals (batch sizes come through onBlsBatch). */
  syncVerifier(stats: BlsVerifierStats): void {
    const r = this.m.runtime;
    r.workerQueueDepth.set(stats.queuedSets);
    this.totals.advance(r.workerJobs, "worker_jobs_success", stats.jobsFinished, {
      kind: "bls_verify",
      result: "success",
    });
    this.totals.advance(r.workerJobs, "worker_jobs_error", stats.jobsFailed, { kind: "bls_verify", result: "error" });
    this.totals.advanceEach(r.workerDropped, "worker_dropped", stats.dropped, "reason");
    this.totals.advance(r.blsBatchFallbacks, "bls_fallbacks", stats.fallbacks);
    this.totals.advance(r.blsVerifySeconds, "bls_verify_seconds", stats.verifyMsTotal / 1000);
    this.totals.advance(r.blsSetsVerified, "bls_sets_valid", stats.setsValid, { result: "valid" });
    this.totals.advance(r.blsSetsVerified, "bls_sets_invalid", stats.setsInvalid, { result: "invalid" });
  }

  /** Gossip verdicts and decode failures per topic kind, req/resp results, peer connection events. */
  syncNetwork(stats: LabelledNetworkStats): void {
    syncNetworkCounters(this.m, this.totals, stats);
  }

  /** The shared req/resp response budget and the network thread's heap. */
  syncNetworkMemory(memory: NetworkMemoryStats, budgetRefusals: number): void {
    syncNetworkMemory(this.m, this.totals, memory, budgetRefusals);
  }

  /** Score disconnections, bans and penalties; each drained score sample is observed once. */
  syncPeerScores(stats: PeerScoreSummary, samples: readonly number[]): void {
    syncPeerScores(this.m, this.totals, stats, samples);
  }

  /** Sizes drained from the network layer since the last sync; each is observed exactly once. */
  observeGossipSizes(sizes: GossipSizes): void {
    observeGossipSizes(this.m, sizes);
  }
}

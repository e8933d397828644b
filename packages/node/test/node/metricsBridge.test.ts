// MetricsBridge mirrors plain component counters into prom-client: cumulative counters advance by
// their delta (never twice, never backwards), gossip sizes are observed once per drain, and the
// per-message timings are sampled so a flood cannot make them per-message work.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BlsVerifierStats, emptyBatchTotals } from "@metronome/bls";
import type { ThreadCpuTimes } from "@metronome/clock/threadCpuTimes";
import { createMetrics, type MetronomeMetrics } from "@metronome/metrics";
import { LabelledNetworkCounters } from "@metronome/network";
import { MetricsBridge } from "../../src/node/metricsBridge.ts";
import { type DutyCounters, emptyDutyCounters } from "../../src/validator/duties.ts";

function metrics(): MetronomeMetrics {
  return createMetrics({ processMetrics: false, client: "metronome_test" });
}

/** Value of one series (`_count`/`_sum` suffixes address a histogram's parts). */
async function value(m: MetronomeMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_(count|sum)$/, "");
  const metric = m.registry.getSingleMetric(base) ?? m.registry.getSingleMetric(name);
  assert.ok(metric, `no metric ${name}`);
  // Histogram values carry the series' own name (`_bucket`, `_sum`, `_count`).
  const values = (await metric.get()).values as { value: number; labels: object; metricName?: string }[];
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = values.find(
    (v) => (v.metricName ?? base) === name && JSON.stringify(Object.entries(v.labels).sort()) === want,
  );
  return found?.value ?? 0;
}

function verifierStats(over: Partial<BlsVerifierStats> = {}): BlsVerifierStats {
  return {
    workers: 1,
    queuedSets: 0,
    pendingSets: 0,
    jobsInFlight: 0,
    jobsStarted: 0,
    jobsFinished: 0,
    jobsFailed: 0,
    workerErrors: 0,
    setsVerified: 0,
    setsValid: 0,
    setsInvalid: 0,
    setsMalformedShape: 0,
    verifyMsTotal: 0,
    ...emptyBatchTotals(),
    dropped: { queue_full: 0, closed: 0, worker_failed: 0 },
    recentBatches: [],
    ...over,
  };
}

function dutyCounters(over: Partial<DutyCounters> = {}): DutyCounters {
  return { ...emptyDutyCounters(), ...over };
}

describe("MetricsBridge", () => {
  it("advances the BLS verifier counters by their delta and sets the queue depth", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const firstTotals = verifierStats({
      queuedSets: 7,
      jobsFinished: 3,
      jobsFailed: 1,
      setsValid: 150,
      setsInvalid: 2,
      verifyMsTotal: 1500,
      fallbacks: 2,
      dropped: { queue_full: 5, closed: 0, worker_failed: 1 },
    });
    bridge.syncVerifier(firstTotals);
    // The same totals again (a scrape right after an interval sync) must not count twice.
    bridge.syncVerifier(firstTotals);
    bridge.syncVerifier(
      verifierStats({
        queuedSets: 0,
        jobsFinished: 5,
        jobsFailed: 1,
        setsValid: 214,
        setsInvalid: 2,
        verifyMsTotal: 2250,
        fallbacks: 3,
        dropped: { queue_full: 9, closed: 2, worker_failed: 1 },
      }),
    );
    assert.equal(await value(m, "metronome_worker_queue_depth"), 0);
    assert.equal(await value(m, "metronome_worker_jobs_total", { kind: "bls_verify", result: "success" }), 5);
    assert.equal(await value(m, "metronome_worker_jobs_total", { kind: "bls_verify", result: "error" }), 1);
    assert.equal(await value(m, "metronome_bls_sets_verified_total", { result: "valid" }), 214);
    assert.equal(await value(m, "metronome_bls_sets_verified_total", { result: "invalid" }), 2);
    assert.ok(Math.abs((await value(m, "metronome_bls_verify_seconds_total")) - 2.25) < 1e-9);
    assert.equal(await value(m, "metronome_bls_batch_fallbacks_total"), 3);
    assert.equal(await value(m, "metronome_worker_dropped_total", { reason: "queue_full" }), 9);
    assert.equal(await value(m, "metronome_worker_dropped_total", { reason: "closed" }), 2);
    assert.equal(await value(m, "metronome_worker_dropped_total", { reason: "worker_failed" }), 1);
    m.close();
  });

  it("observes each BLS batch size once, through the onBatch hook", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    for (const size of [64, 64, 3]) bridge.onBlsBatch(size);
    assert.equal(await value(m, "metronome_bls_batch_size_count"), 3);
    assert.equal(await value(m, "metronome_bls_batch_size_sum"), 131);
    m.close();
  });

  it("mirrors gossip verdicts, req/resp results with the metric's protocol spelling, and peer events", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const net = new LabelledNetworkCounters();
    net.gossipVerdict("attestation", "accept");
    net.gossipVerdict("attestation", "accept");
    net.gossipVerdict("block", "reject");
    net.reqresp("blocksByRoot", "outbound", "success");
    net.reqresp("status", "inbound", "rate_limited");
    net.values.peerConnections.inbound.success += 2;
    net.values.peerConnections.outbound.error += 1;
    net.values.peerDisconnections.outbound.local_close += 1;
    bridge.syncNetwork(net.snapshot());
    net.gossipVerdict("attestation", "accept");
    bridge.syncNetwork(net.snapshot());
    assert.equal(await value(m, "metronome_gossip_messages_total", { topic: "attestation", result: "accept" }), 3);
    assert.equal(await value(m, "metronome_gossip_messages_total", { topic: "block", result: "reject" }), 1);
    assert.equal(
      await value(m, "metronome_reqresp_requests_total", {
        protocol: "blocks_by_root",
        direction: "outbound",
        result: "success",
      }),
      1,
    );
    assert.equal(
      await value(m, "metronome_reqresp_requests_total", {
        protocol: "status",
        direction: "inbound",
        result: "rate_limited",
      }),
      1,
    );
    assert.equal(await value(m, "lean_peer_connection_events_total", { direction: "inbound", result: "success" }), 2);
    assert.equal(await value(m, "lean_peer_connection_events_total", { direction: "outbound", result: "error" }), 1);
    assert.equal(
      await value(m, "lean_peer_disconnection_events_total", { direction: "outbound", reason: "local_close" }),
      1,
    );
    m.close();
  });

  it("mirrors the signature and aggregation counters", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const verdicts = { single: { valid: 10, invalid: 1 }, aggregated: { valid: 4, invalid: 2 } };
    const duties = dutyCounters({
      attestationsProduced: 6,
      aggregatesBuilt: 3,
      attestationsAggregated: 11,
      aggregationSkipped: { not_aggregator: 0, other: 2 },
    });
    bridge.syncSignatures(verdicts, duties);
    bridge.syncSignatures(verdicts, duties);
    assert.equal(await value(m, "lean_pq_sig_attestation_signatures_total"), 6);
    assert.equal(await value(m, "lean_pq_sig_attestation_signatures_valid_total"), 10);
    assert.equal(await value(m, "lean_pq_sig_attestation_signatures_invalid_total"), 1);
    assert.equal(await value(m, "lean_pq_sig_aggregated_signatures_total"), 3);
    assert.equal(await value(m, "lean_pq_sig_attestations_in_aggregated_signatures_total"), 11);
    assert.equal(await value(m, "lean_pq_sig_aggregated_signatures_valid_total"), 4);
    assert.equal(await value(m, "lean_pq_sig_aggregated_signatures_invalid_total"), 2);
    assert.equal(await value(m, "lean_aggregator_skipped_total", { reason: "other" }), 2);
    assert.equal(await value(m, "lean_aggregator_skipped_total", { reason: "not_aggregator" }), 0);
    m.close();
  });

  it("observes every drained gossip size once, in its kind's histogram", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    bridge.observeGossipSizes({ block: [20_000], attestation: [250, 250, 300], aggregation: [] });
    bridge.observeGossipSizes({ block: [], attestation: [260], aggregation: [900] });
    assert.equal(await value(m, "lean_gossip_block_size_bytes_count"), 1);
    assert.equal(await value(m, "lean_gossip_attestation_size_bytes_count"), 4);
    assert.equal(await value(m, "lean_gossip_attestation_size_bytes_sum"), 1060);
    assert.equal(await value(m, "lean_gossip_aggregation_size_bytes_count"), 1);
    m.close();
  });

  it("samples per-message attestation timings at most once per interval and per kind", async () => {
    const m = metrics();
    let now = 1_000;
    const bridge = new MetricsBridge(m, { sampleIntervalMs: 100, now: () => now });
    const chain = bridge.chainObserver();
    for (let i = 0; i < 50; i++) {
      chain.attestationValidated?.(0.001);
      chain.signatureVerified?.("single", 0.002);
    }
    chain.signatureVerified?.("aggregated", 0.003);
    assert.equal(await value(m, "lean_attestation_validation_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_pq_sig_attestation_verification_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_pq_sig_aggregated_signatures_verification_time_seconds_count"), 1);
    now += 100;
    chain.attestationValidated?.(0.004);
    chain.signatureVerified?.("single", 0.005);
    assert.equal(await value(m, "lean_attestation_validation_time_seconds_count"), 2);
    assert.equal(await value(m, "lean_pq_sig_attestation_verification_time_seconds_count"), 2);
    m.close();
  });

  it("observes each state transition's phases and counts its slots, attestations and votes", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    bridge.onStateTransition({
      slots: 3,
      slotsMs: 1,
      blockMs: 4,
      attestations: 2,
      votes: 7,
      attestationsMs: 3,
      totalMs: 9,
    });
    bridge.onStateTransition({
      slots: 1,
      slotsMs: 1,
      blockMs: 2,
      attestations: 0,
      votes: 0,
      attestationsMs: 1,
      totalMs: 5,
    });
    assert.equal(await value(m, "metronome_block_votes_sum"), 7);
    assert.equal(await value(m, "metronome_block_votes_count"), 2);
    assert.equal(await value(m, "lean_state_transition_slots_processed_total"), 4);
    assert.equal(await value(m, "lean_state_transition_attestations_processed_total"), 2);
    assert.equal(await value(m, "lean_state_transition_time_seconds_count"), 2);
    assert.ok(Math.abs((await value(m, "lean_state_transition_time_seconds_sum")) - 0.014) < 1e-9);
    assert.equal(await value(m, "lean_state_transition_block_processing_time_seconds_count"), 2);
    assert.equal(await value(m, "lean_state_transition_slots_processing_time_seconds_count"), 2);
    assert.equal(await value(m, "lean_state_transition_attestations_processing_time_seconds_count"), 2);
    m.close();
  });

  it("feeds the block production, attester and aggregator histograms from the duty observer", async () => {
    const m = metrics();
    const duty = new MetricsBridge(m).dutyObserver();
    duty.blockBuilt?.(0.02, 3);
    duty.blockAttestationsSelected?.(0.001);
    duty.attestationSigned?.(0.001);
    duty.attestationsProduced?.(0.003);
    duty.aggregateBuilt?.(0.002);
    duty.aggregationCycle?.(0.004);
    assert.equal(await value(m, "lean_block_building_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_block_aggregated_payloads_sum"), 3);
    assert.equal(await value(m, "lean_block_building_payload_aggregation_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_pq_sig_attestation_signing_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_attestations_production_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_pq_sig_aggregated_signatures_building_time_seconds_count"), 1);
    assert.equal(await value(m, "lean_committee_signatures_aggregation_time_seconds_count"), 1);
    m.close();
  });
});

describe("MetricsBridge: database write queue", () => {
  it("mirrors depth, bytes, back-pressure and failures; counters advance by their delta", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const stats = {
      writes: 3,
      bytes: 4096,
      written: { block: 10, finality: 2 },
      failures: { block: 0, finality: 4 },
      consecutiveFailures: 4,
      lastError: "EIO",
      superseded: 1,
      refused: 0,
      backpressure: true,
    };
    bridge.syncDatabase(stats);
    bridge.syncDatabase({ ...stats, failures: { block: 1, finality: 4 }, written: { block: 12, finality: 2 } });
    assert.equal(await value(m, "metronome_db_write_queue_writes"), 3);
    assert.equal(await value(m, "metronome_db_write_queue_bytes"), 4096);
    assert.equal(await value(m, "metronome_db_backpressure"), 1);
    assert.equal(await value(m, "metronome_db_write_consecutive_failures"), 4);
    assert.equal(await value(m, "metronome_db_write_failures_total", { kind: "finality" }), 4);
    assert.equal(await value(m, "metronome_db_write_failures_total", { kind: "block" }), 1);
    assert.equal(await value(m, "metronome_db_writes_total", { kind: "block" }), 12);
    assert.equal(await value(m, "metronome_db_finality_superseded_total"), 1);
    m.close();
  });
});

describe("MetricsBridge peer scores", () => {
  it("exports score samples, graylisted peers, score disconnections by reason and penalties", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const stats = {
      penalties: {
        rate_limited: 3,
        invalid_request: 0,
        malformed_response: 1,
        oversized_response: 0,
        unwanted_gossip: 6,
      },
      disconnects: { gossip_score: 2, app_score: 1 },
      bannedNow: 3,
      refusedConnections: 4,
      evictions: 0,
      graylistedNow: 1,
      graylistedTotal: 2,
      deferredPenalties: { forgiven: 5, charged: 1, not_deferred: 0 },
    };
    bridge.syncPeerScores(stats, [-20000, 5]);
    bridge.syncPeerScores(stats, []); // running totals: nothing counted twice
    assert.equal(await value(m, "metronome_peer_gossip_score_count"), 2);
    assert.equal(await value(m, "metronome_peers_graylisted"), 1);
    assert.equal(await value(m, "metronome_peers_graylisted_total"), 2);
    assert.equal(await value(m, "metronome_peers_banned"), 3);
    assert.equal(await value(m, "metronome_peer_connections_refused_total"), 4);
    assert.equal(await value(m, "metronome_peer_score_disconnects_total", { reason: "gossip_score" }), 2);
    assert.equal(await value(m, "metronome_peer_score_disconnects_total", { reason: "app_score" }), 1);
    assert.equal(await value(m, "metronome_peer_score_penalties_total", { action: "rate_limited" }), 3);
    assert.equal(await value(m, "metronome_peer_score_penalties_total", { action: "unwanted_gossip" }), 6);
    assert.equal(await value(m, "metronome_peer_score_penalties_deferred_total", { outcome: "forgiven" }), 5);
    assert.equal(await value(m, "metronome_peer_score_penalties_deferred_total", { outcome: "charged" }), 1);
  });
});

describe("MetricsBridge vote coverage", () => {
  it("sets the vote coverage gauge from the last slot and advances applied and missing votes by their delta", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    bridge.syncVoteCoverage({ last: null, slots: 0, applied: 0, expected: 0 });
    assert.equal(await value(m, "metronome_vote_coverage_votes_total", { result: "applied" }), 0);
    bridge.syncVoteCoverage({ last: { slot: 5, applied: 30, expected: 32 }, slots: 2, applied: 62, expected: 64 });
    assert.equal(await value(m, "metronome_vote_coverage_ratio"), 30 / 32);
    bridge.syncVoteCoverage({ last: { slot: 6, applied: 32, expected: 32 }, slots: 3, applied: 94, expected: 96 });
    assert.equal(await value(m, "metronome_vote_coverage_ratio"), 1);
    assert.equal(await value(m, "metronome_vote_coverage_votes_total", { result: "applied" }), 94);
    assert.equal(await value(m, "metronome_vote_coverage_votes_total", { result: "missing" }), 2);
  });

  it("exports the orphan pool's blocks, bytes and drops by reason, advancing by their delta", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const stats = { blocks: 3, bytes: 3000, evictedForCount: 1, evictedForBytes: 4, refusedTooLarge: 2 };
    bridge.syncOrphans(stats);
    bridge.syncOrphans({ ...stats, blocks: 2, bytes: 2000, evictedForBytes: 6 });
    assert.equal(await value(m, "metronome_orphan_blocks"), 2);
    assert.equal(await value(m, "metronome_orphan_blocks_bytes"), 2000);
    assert.equal(await value(m, "metronome_orphan_blocks_dropped_total", { reason: "evicted_count" }), 1);
    assert.equal(await value(m, "metronome_orphan_blocks_dropped_total", { reason: "evicted_bytes" }), 6);
    assert.equal(await value(m, "metronome_orphan_blocks_dropped_total", { reason: "too_large" }), 2);
  });
});

describe("MetricsBridge: the network worker's heap collections", () => {
  it("counts full collections and releases apart, each advanced by its delta", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    bridge.syncNetworkHeapCollections({ network_heap_full_collections: 3, network_heap_releases: 0 });
    bridge.syncNetworkHeapCollections({ network_heap_full_collections: 5, network_heap_releases: 1 });
    bridge.syncNetworkHeapCollections({ network_heap_full_collections: 5, network_heap_releases: 1 });
    const name = "metronome_network_thread_heap_collections_total";
    assert.equal(await value(m, name, { kind: "full" }), 5);
    assert.equal(await value(m, name, { kind: "release" }), 1);
    m.close();
  });

  it("exports the gossip boundary's depth, drops by reason and refusals before decode, advancing by their delta", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const perKind = (block: number, attestation: number, aggregation: number) => ({ block, attestation, aggregation });
    const boundary = (held: number, full: number, early: number) => ({
      droppedCount: perKind(0, 0, full),
      droppedBytes: perKind(0, 0, 0),
      verdictTimeouts: perKind(0, 0, 0),
      droppedHeld: perKind(0, held, 0),
      refusedBeforeDecode: perKind(0, held, early),
      lateVerdicts: 0,
      batches: 0,
      items: 0,
      pendingItems: 7,
      pendingBytes: 700,
      holds: 1,
    });
    bridge.syncGossipBoundary(boundary(2, 3, 1));
    bridge.syncGossipBoundary(boundary(5, 4, 4));
    assert.equal(await value(m, "metronome_queue_depth", { queue: "gossip_boundary" }), 7);
    const dropped = "metronome_queue_dropped_total";
    assert.equal(await value(m, dropped, { queue: "gossip_boundary", reason: "peer_held" }), 5);
    assert.equal(await value(m, dropped, { queue: "gossip_boundary", reason: "full_count" }), 4);
    const refused = "metronome_gossip_refused_before_decode_total";
    assert.equal(await value(m, refused, { topic: "attestation" }), 5);
    assert.equal(await value(m, refused, { topic: "aggregation" }), 4);
    assert.equal(await value(m, refused, { topic: "block" }), 0);
    m.close();
  });

  it("counts network worker restarts by the growth of the worker's restart count", async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    bridge.syncNetworkThread({ restarts: 0 });
    bridge.syncNetworkThread({ restarts: 2 });
    bridge.syncNetworkThread({ restarts: 2 });
    assert.equal(await value(m, "metronome_network_thread_restarts_total"), 2);
    m.close();
  });
});

describe("MetricsBridge: the driver thread's CPU time", () => {
  it("advances on-CPU and waiting-for-a-CPU seconds by what the scheduler added, never backwards", async () => {
    const m = metrics();
    let times: ThreadCpuTimes | null = { onCpuMs: 1_500, runQueueWaitMs: 250, timeslices: 40 };
    const bridge = new MetricsBridge(m, { readDriverThreadCpu: () => times });
    bridge.syncDriverThreadCpu();
    assert.equal(await value(m, "metronome_driver_thread_cpu_seconds_total"), 1.5);
    assert.equal(await value(m, "metronome_driver_thread_cpu_wait_seconds_total"), 0.25);
    times = { onCpuMs: 1_700, runQueueWaitMs: 1_250, timeslices: 90 };
    bridge.syncDriverThreadCpu();
    assert.equal(await value(m, "metronome_driver_thread_cpu_seconds_total"), 1.7);
    assert.equal(await value(m, "metronome_driver_thread_cpu_wait_seconds_total"), 1.25);
    // A kernel that stops answering leaves the counters where they were.
    times = null;
    bridge.syncDriverThreadCpu();
    assert.equal(await value(m, "metronome_driver_thread_cpu_wait_seconds_total"), 1.25);
  });

  it("reads this process's main thread by default (Linux)", { skip: process.platform !== "linux" }, async () => {
    const m = metrics();
    const bridge = new MetricsBridge(m);
    const spinUntil = performance.now() + 30;
    while (performance.now() < spinUntil) {
      // on a CPU for 30 ms
    }
    bridge.syncDriverThreadCpu();
    assert.ok((await value(m, "metronome_driver_thread_cpu_seconds_total")) >= 0.02);
  });
});

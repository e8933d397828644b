// One scrape of the flooded node: the figures the flood benchmark keeps from its /metrics and
// /lean/v0/health (periodSummary.ts sums them up per period, targetProbe.ts takes them).
import type { NodeHealth } from "@metronome/api";
import { type HistogramSnapshot, parsePromText, promByLabel, promHistogram, promValue } from "./promText.ts";

export interface ProbeSample {
  /** Unix ms. */
  t: number;
  tickLateness: HistogramSnapshot | null;
  passDuration: HistogramSnapshot | null;
  intervalsMissed: number;
  /** metronome_gossip_attestations_dropped_total by "kind/reason". */
  attestationDrops: Record<string, number>;
  decodeErrors: Record<string, number>;
  fetchDedup: Record<string, number>;
  blocksByRootInflight: number;
  blocksByRootInflightCap: number;
  pendingSingle: number;
  pendingAggregated: number;
  pendingEvicted: number;
  attestationQueueDepth: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  rssBytes: number;
  /** Main-thread V8 heap in use, and memory held outside it (Buffers, native objects). */
  heapUsedBytes: number;
  /** Main-thread V8 heap committed (in use or not): what the heap holds of RSS. */
  heapTotalBytes: number;
  externalBytes: number;
  /** The network worker's own V8 heap in use, and its off-heap memory (metronome_network_thread_heap_bytes). */
  networkHeapUsedBytes: number;
  networkHeapTotalBytes: number;
  networkExternalBytes: number;
  /** Gossip written to peers and not yet read by them (metronome_gossip_outbound_buffer_bytes, all peers). */
  gossipOutboundBufferedBytes: number;
  /** metronome_bls_verify_seconds_total and metronome_bls_sets_verified_total (all results). */
  blsVerifySeconds: number;
  blsSetsVerified: number;
  attestationsValid: number;
  attestationsInvalid: number;
  /** metronome_peers_graylisted_total and metronome_peer_score_disconnects_total (all reasons). */
  graylistedTotal: number;
  scoreDisconnectsTotal: number;
  /** lean_connected_peers. */
  connectedPeers: number;
  /** metronome_vote_coverage_votes_total by result, and the last slot's metronome_vote_coverage_ratio. */
  coverageApplied: number;
  coverageMissing: number;
  coverageRatio: number;
  health: NodeHealth | null;
  /** User + system CPU seconds of the node process (/proc), when its pid is known. */
  cpuSeconds: number | null;
  /** The same for its signature-verification threads alone (targetProbe.ts verifierThreadCpu). */
  verifierCpuSeconds: number | null;
  /**
   * The driver thread's time on a CPU and waiting for one (metronome_driver_thread_cpu_seconds_total,
   * metronome_driver_thread_cpu_wait_seconds_total): tick lateness that is the node's own work vs
   * the machine's.
   */
  driverCpuSeconds: number;
  driverCpuWaitSeconds: number;
  /**
   * The driver thread's garbage-collection pauses (prom-client's nodejs_gc_duration_seconds, which
   * times the main thread's isolate): scavenges (kind "minor") and full mark-compacts ("major"),
   * their total seconds and count. A scavenge's parallel work runs on V8's helper threads, so how
   * long the driver stops for one also depends on how soon those get a core.
   */
  gcScavengeSeconds: number;
  gcScavenges: number;
  gcMarkCompactSeconds: number;
  /** CPU seconds of the kernel's memory-reclaim threads, machine-wide (targetProbe.ts reclaimThreadCpu). */
  reclaimCpuSeconds: number | null;
}

/** What the probe reads from /proc beside the scrape (null where it cannot say). */
export interface ProcFigures {
  cpuSeconds: number | null;
  verifierCpuSeconds: number | null;
  reclaimCpuSeconds: number | null;
}

function toRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries(map);
}

export function extractSample(metricsText: string, health: NodeHealth | null, proc: ProcFigures): ProbeSample {
  const m = parsePromText(metricsText);
  const drops = new Map<string, number>();
  for (const s of m.get("metronome_gossip_attestations_dropped_total") ?? []) {
    const key = `${s.labels.kind ?? "?"}/${s.labels.reason ?? "?"}`;
    drops.set(key, (drops.get(key) ?? 0) + s.value);
  }
  const pendingSingle = promValue(m, "lean_pending_attestations_size", { kind: "single" });
  const pendingAggregated = promValue(m, "lean_pending_attestations_size", { kind: "aggregated" });
  return {
    t: Date.now(),
    tickLateness: promHistogram(m, "metronome_tick_lateness_seconds"),
    passDuration: promHistogram(m, "metronome_driver_pass_duration_seconds"),
    intervalsMissed: promValue(m, "metronome_intervals_missed_total"),
    attestationDrops: toRecord(drops),
    decodeErrors: toRecord(promByLabel(m, "metronome_gossip_decode_errors_total", "reason")),
    fetchDedup: toRecord(promByLabel(m, "lean_block_fetch_dedup_total", "outcome")),
    blocksByRootInflight: promValue(m, "metronome_blocks_by_root_inflight"),
    blocksByRootInflightCap: promValue(m, "metronome_blocks_by_root_inflight_max"),
    pendingSingle,
    pendingAggregated,
    pendingEvicted: promValue(m, "lean_pending_attestations_evicted_total"),
    attestationQueueDepth: promValue(m, "metronome_queue_depth", { queue: "attestation" }),
    eventLoopP99Ms: promValue(m, "metronome_event_loop_delay_seconds", { quantile: "0.99" }) * 1000,
    eventLoopMaxMs: promValue(m, "metronome_event_loop_delay_seconds", { quantile: "1" }) * 1000,
    rssBytes: promValue(m, "process_resident_memory_bytes"),
    heapUsedBytes: promValue(m, "nodejs_heap_size_used_bytes"),
    heapTotalBytes: promValue(m, "nodejs_heap_size_total_bytes"),
    externalBytes: promValue(m, "nodejs_external_memory_bytes"),
    networkHeapUsedBytes: promValue(m, "metronome_network_thread_heap_bytes", { kind: "used" }),
    networkHeapTotalBytes: promValue(m, "metronome_network_thread_heap_bytes", { kind: "total" }),
    networkExternalBytes: promValue(m, "metronome_network_thread_heap_bytes", { kind: "external" }),
    gossipOutboundBufferedBytes: promValue(m, "metronome_gossip_outbound_buffer_bytes", { kind: "all_peers" }),
    blsVerifySeconds: promValue(m, "metronome_bls_verify_seconds_total"),
    blsSetsVerified: promValue(m, "metronome_bls_sets_verified_total"),
    attestationsValid: promValue(m, "lean_attestations_valid_total"),
    attestationsInvalid: promValue(m, "lean_attestations_invalid_total"),
    graylistedTotal: promValue(m, "metronome_peers_graylisted_total"),
    scoreDisconnectsTotal: promValue(m, "metronome_peer_score_disconnects_total"),
    connectedPeers: promValue(m, "lean_connected_peers"),
    coverageApplied: promValue(m, "metronome_vote_coverage_votes_total", { result: "applied" }),
    coverageMissing: promValue(m, "metronome_vote_coverage_votes_total", { result: "missing" }),
    coverageRatio: promValue(m, "metronome_vote_coverage_ratio"),
    driverCpuSeconds: promValue(m, "metronome_driver_thread_cpu_seconds_total"),
    driverCpuWaitSeconds: promValue(m, "metronome_driver_thread_cpu_wait_seconds_total"),
    gcScavengeSeconds: promValue(m, "nodejs_gc_duration_seconds_sum", { kind: "minor" }),
    gcScavenges: promValue(m, "nodejs_gc_duration_seconds_count", { kind: "minor" }),
    gcMarkCompactSeconds: promValue(m, "nodejs_gc_duration_seconds_sum", { kind: "major" }),
    health,
    ...proc,
  };
}

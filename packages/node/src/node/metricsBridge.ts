// Feeds Prometheus from the components' own counters. Components keep plain numeric counters
// (testable without prom-client); this bridge mirrors them into the registry: gauges are set,
// cumulative counters are advanced by their delta since the last sync. Called every interval and
// before each scrape, so figures are at most one interval stale.
import type { Counter, MetronomeMetrics } from "@metronome/metrics";
import type { ChainEvents } from "../chain/chainEvents.ts";
import type { BeaconNode } from "./beaconNode.ts";

type LabelValues = Record<string, string>;

export class MetricsBridge {
  private readonly m: MetronomeMetrics;
  private readonly seen = new Map<string, number>();
  private lastTickAtMs = 0;

  constructor(metrics: MetronomeMetrics) {
    this.m = metrics;
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

  onPass(batchSize: number, durationMs: number): void {
    this.m.runtime.driverPasses.inc();
    if (batchSize > 0) this.m.runtime.driverBatchSize.observe(batchSize);
    this.m.runtime.driverPassDurationSeconds.observe(durationMs / 1000);
  }

  onBlockProcessed(seconds: number): void {
    this.m.forkChoice.blockProcessingTimeSeconds.observe(seconds);
  }

  /** Mirrors every component counter and gauge into the registry. */
  sync(node: BeaconNode): void {
    const { m } = this;
    const store = node.chain.store;
    m.forkChoice.headSlot.set(store.head.slot);
    m.forkChoice.currentSlot.set(Math.max(0, node.clock.currentSlot()));
    m.forkChoice.safeTargetSlot.set(store.safeTarget.slot);
    m.stateTransition.latestJustifiedSlot.set(store.latestJustified.slot);
    m.stateTransition.latestFinalizedSlot.set(store.latestFinalized.slot);
    m.stateTransition.justifiedSlot.set(store.latestJustified.slot);
    m.stateTransition.finalizedSlot.set(store.latestFinalized.slot);
    m.forkChoice.latestKnownAggregatedPayloads.set(store.aggregatePool.size);
    m.setSyncStatus(node.sync.state.toLowerCase() as "idle" | "syncing" | "synced");
    m.network.connectedPeers.set({ client: m.client }, node.network.peerCount());
    m.validator.validatorsCount.set(node.duties.indices.length);
    m.validator.isAggregator.set(node.duties.isAggregator ? 1 : 0);

    const stats = node.driver.stats;
    this.advance(m.runtime.intervalsMissed, "intervals_missed", stats.intervalsMissed);

    const ingress = node.ingress;
    for (const [queue, q] of [
      ["block", ingress.blocks],
      ["aggregate", ingress.aggregates],
      ["attestation", ingress.attestations],
    ] as const) {
      m.runtime.queueDepth.set({ queue }, q.size);
      this.advance(m.runtime.queueDropped, `queue_dropped_${queue}`, q.dropped.queue_full, {
        queue,
        reason: "queue_full",
      });
    }
    for (const kind of ["single", "aggregated"] as const) {
      for (const [reason, n] of Object.entries(ingress.drops[kind])) {
        this.advance(m.runtime.gossipAttestationsDropped, `drop_${kind}_${reason}`, n, { kind, reason });
      }
      const buffer = kind === "single" ? node.chain.pendingSingle : node.chain.pendingAggregated;
      const s = buffer.stats();
      m.runtime.pendingAttestationsSize.set({ kind }, s.size);
      this.advance(m.runtime.pendingAttestationsEvicted, `pending_evicted_${kind}`, s.evicted, { kind });
      for (const [reason, n] of Object.entries(s.buffered)) {
        this.advance(m.runtime.pendingAttestationsBuffered, `pending_buffered_${kind}_${reason}`, n, { kind, reason });
      }
      for (const [outcome, n] of Object.entries(s.replayOutcomes)) {
        this.advance(m.runtime.pendingAttestationsReplay, `pending_replay_${kind}_${outcome}`, n, { kind, outcome });
      }
    }

    const fetcher = node.fetcher.stats();
    m.runtime.blocksByRootInflight.set(fetcher.inFlight);
    m.runtime.blocksByRootInflightMax.set(node.fetcher.maxInFlight);
    m.runtime.blockFetchWantedRoots.set(fetcher.wantedCount);
    for (const [outcome, n] of Object.entries(fetcher.dedupOutcomes)) {
      this.advance(m.runtime.blockFetchDedup, `dedup_${outcome}`, n, { outcome });
    }
    m.runtime.orphanBlocks.set(node.chain.orphans.size);

    const net = node.network.stats();
    // The network layer counts decode failures per reason, not per topic.
    for (const reason of ["not_snappy", "too_large", "bad_ssz", "bad_topic"] as const) {
      const n = net[`gossip_rejected_${reason}` as keyof typeof net];
      this.advance(m.runtime.gossipDecodeErrors, `decode_${reason}`, n, { topic: "all", reason });
    }
    this.advance(m.runtime.reqrespRateLimited, "reqresp_rate_limited", net.reqresp_rate_limited, { protocol: "all" });
    const sse = node.eventStream?.stats();
    if (sse) {
      m.runtime.sseSubscribers.set(sse.subscribers);
      this.advance(m.runtime.sseDropped, "sse_slow", sse.slowConsumerDrops, { reason: "slow_consumer" });
      this.advance(m.runtime.sseDropped, "sse_full", sse.rejectedFull, { reason: "too_many_subscribers" });
    }
    const counters = node.chain.counters;
    this.advance(m.forkChoice.attestationsValid, "attestations_valid", counters.attestationsAccepted);
    const invalid = Object.values(counters.attestationsRejected).reduce((a, b) => a + b, 0);
    this.advance(m.forkChoice.attestationsInvalid, "attestations_invalid", invalid);
    this.advance(m.blockProduction.buildingSuccess, "blocks_built", node.duties.counters.blocksProposed);
    this.advance(m.blockProduction.buildingFailures, "blocks_failed", node.duties.counters.blockProposalFailures);
  }

  private advance(counter: Counter, key: string, total: number, labels?: LabelValues): void {
    const last = this.seen.get(key) ?? 0;
    if (total > last) {
      if (labels) counter.inc(labels, total - last);
      else counter.inc(total - last);
    }
    this.seen.set(key, Math.max(last, total));
  }
}

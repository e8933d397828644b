// The composition root of a running node: database, fork-choice store, network, clock-driven main
// loop, validator duties, sync and the HTTP API. Start order matters (the store is restored before
// the network can deliver anything); stop is the reverse and bounded in time.

import type { NodeHealth } from "@metronome/api";
import type { BlsVerifier } from "@metronome/bls";
import { BlsVerifierPool, MainThreadVerifier } from "@metronome/bls";
import {
  Block,
  computeForkDigest,
  PubkeyCache,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  SigningDomains,
  type StateTransitionTiming,
  shortRoot,
  toHex,
} from "@metronome/chain";
import { IntervalTracker, SlotClock } from "@metronome/clock";
import { readMainThreadCpuTimes } from "@metronome/clock/threadCpuTimes";
import type { Logger } from "@metronome/common";
import { clearDriverHeapFlagsForWorkers, genesisStateOf } from "@metronome/common";
import {
  createMetrics,
  type MetricsServer,
  type MetronomeMetrics,
  renderMetricsInSlices,
  startMetricsServer,
} from "@metronome/metrics";
import type { INetwork } from "@metronome/network";
import { SlashingProtection } from "@metronome/validator";
import type { FastifyInstance } from "fastify";
import { type EventsPlugin, eventsPlugin } from "../api/events.ts";
import { leanRoutesPlugin } from "../api/leanRoutes.ts";
import { type ApiServer, startApiServer } from "../api/server.ts";
import { ApiServerStats } from "../api/serverLimits.ts";
import { ChainEvents } from "../chain/chainEvents.ts";
import { ChainService } from "../chain/chainService.ts";
import type { BeaconChain } from "../chain/interface.ts";
import { ChainDb } from "../db/chainDb.ts";
import { Driver } from "../driver/driver.ts";
import { BlockFetcher } from "../runtime/blockFetcher.ts";
import { PendingAttestationBuffer } from "../runtime/pendingBuffer.ts";
import { OrphanBlocks } from "../sync/orphanBlocks.ts";
import { SyncService } from "../sync/syncService.ts";
import { AttestationCollector } from "../validator/attestationCollector.ts";
import { ValidatorDuties } from "../validator/duties.ts";
import type { SigningGuard } from "../validator/signingGuard.ts";
import { startSigningGuard } from "../validator/startSigningGuard.ts";
import { nodeApiBackend } from "./apiBackend.ts";
import { attestationSubnetsToJoin } from "./attestationSubnets.ts";
import { GossipIngress } from "./gossipIngress.ts";
import { buildHealth } from "./health.ts";
import { runIntervalDuties } from "./intervalDuties.ts";
import { loadAnchor } from "./loadAnchor.ts";
import { MetricsBridge } from "./metricsBridge.ts";
import { createNetwork } from "./networkWiring.ts";
import type { NodeView } from "./nodeView.ts";
import type { NodeOptions } from "./options.ts";
import { SlotLogger } from "./slotLogger.ts";
import { startTickCpuSampling, TickCpuWatch } from "./tickCpuWatch.ts";
import { validatorRoutes } from "./validatorApiWiring.ts";

export const NODE_VERSION = "0.1.0";
/** Shutdown waits this long for queued database writes (a SIGTERM must stop within 5 s). */
const SHUTDOWN_WRITE_DRAIN_MS = 2_000;

export class BeaconNode implements NodeView {
  readonly options: NodeOptions;
  readonly logger: Logger;
  readonly db: ChainDb;
  readonly chain: BeaconChain;
  readonly network: INetwork;
  readonly clock: SlotClock;
  readonly driver: Driver;
  readonly sync: SyncService;
  readonly ingress: GossipIngress;
  readonly duties: ValidatorDuties;
  readonly fetcher: BlockFetcher;
  readonly metrics: MetronomeMetrics;
  readonly metricsBridge: MetricsBridge;
  readonly verifier: BlsVerifier;
  /** The slashing-protection record of the node's validators (DATA_DIR/slashing-protection). */
  readonly protection: SlashingProtection;
  readonly signingGuard: SigningGuard;
  private metricsServer: MetricsServer | null = null;
  /** The SSE stream (null while the HTTP API is disabled); its stats feed the metrics. */
  eventStream: EventsPlugin | null = null;
  private api: ApiServer | null = null;
  /** Dropped connections, refused requests and API signature verdicts (metrics). */
  readonly apiStats = new ApiServerStats();
  private readonly startedAtMs = Date.now();
  /** Ends the notes taken before each boundary for the late-tick line (set once the driver runs). */
  private stopTickCpuSampling: () => void = () => {};

  private constructor(parts: {
    options: NodeOptions;
    logger: Logger;
    db: ChainDb;
    chain: BeaconChain;
    network: INetwork;
    clock: SlotClock;
    driver: Driver;
    sync: SyncService;
    ingress: GossipIngress;
    duties: ValidatorDuties;
    fetcher: BlockFetcher;
    metrics: MetronomeMetrics;
    metricsBridge: MetricsBridge;
    verifier: BlsVerifier;
    protection: SlashingProtection;
    signingGuard: SigningGuard;
  }) {
    this.options = parts.options;
    this.logger = parts.logger;
    this.db = parts.db;
    this.chain = parts.chain;
    this.network = parts.network;
    this.clock = parts.clock;
    this.driver = parts.driver;
    this.sync = parts.sync;
    this.ingress = parts.ingress;
    this.duties = parts.duties;
    this.fetcher = parts.fetcher;
    this.metrics = parts.metrics;
    this.metricsBridge = parts.metricsBridge;
    this.verifier = parts.verifier;
    this.protection = parts.protection;
    this.signingGuard = parts.signingGuard;
  }

  static async start(options: NodeOptions, logger: Logger): Promise<BeaconNode> {
    // Before any worker starts: the driver's heap flags must not size the workers' heaps.
    clearDriverHeapFlagsForWorkers();
    const genesisState = genesisStateOf(options.chain);
    const forkDigest = computeForkDigest(genesisState);
    const domains = new SigningDomains(forkDigest);
    const pubkeys = new PubkeyCache(genesisState.validators);
    const db = await ChainDb.open(options.dataDir, forkDigest);
    let verifierRef: BlsVerifier | null = null;
    let protectionRef: SlashingProtection | null = null;
    let networkRef: INetwork | null = null;

    try {
      const anchor = await loadAnchor(db, genesisState, options, logger);
      const metrics = createMetrics({ client: `metronome_${options.nodeId ?? 0}`, version: NODE_VERSION });
      const metricsBridge = new MetricsBridge(metrics);
      const clock = new SlotClock({
        genesisTimeSec: options.chain.genesisTime,
        slotDurationMs: options.chain.slotDurationMs,
      });
      const events = new ChainEvents();
      metricsBridge.observeEvents(events);
      metrics.network.attestationCommitteeCount.set(options.chain.attestationCommitteeCount);
      const lowestValidator = Math.min(...options.validatorIndices);
      if (Number.isFinite(lowestValidator)) {
        // The subnet the node's first validator publishes on (attestationSubnetsToJoin says which it joins).
        metrics.network.attestationCommitteeSubnet.set(lowestValidator % options.chain.attestationCommitteeCount);
      }
      const collector = new AttestationCollector();
      const network = createNetwork(options, forkDigest, logger.child("network"));
      networkRef = network;
      const orphans = new OrphanBlocks();
      let ingressRef: GossipIngress | null = null;
      const fetcher = new BlockFetcher({
        now: () => Date.now(),
        // Fetched blocks go through the same bounded block queue as gossip blocks.
        request: async (peer, roots) => {
          const blocks = await network.blocksByRoot(peer, roots);
          if (ingressRef !== null) for (const b of blocks) void ingressRef.enqueueBlock(b, "blocks_by_root", peer);
          return blocks.map((b) => Block.hashTreeRoot(b.block));
        },
        peers: () => network.peers(),
        isKnown: (root) => chainRef?.hasBlock(root) === true || orphans.has(root),
      });
      let chainRef: ChainService | null = null;
      const anchorParts = {
        state: anchor.state,
        block: anchor.block.block,
        pubkeys,
        domains,
        onStateTransition: (timing: StateTransitionTiming) => metricsBridge.onStateTransition(timing),
      };
      const chain = ChainService.fromAnchor(anchorParts, {
        db,
        events,
        logger: logger.child("chain"),
        fetcher,
        pendingSingle: new PendingAttestationBuffer<SignedAttestation>({ kind: "single" }),
        pendingAggregated: new PendingAttestationBuffer<SignedAggregatedAttestation>({ kind: "aggregated" }),
        orphans,
        onVerifiedAttestation: (att) => {
          if (options.isAggregator && chainRef) collector.add(att, clock.currentSlot());
        },
        observer: metricsBridge.chainObserver(),
      });
      chainRef = chain;

      // Restart: replay the blocks stored after the anchor (their signatures were checked once).
      let replayed = 0;
      for await (const block of db.blocksAfter(anchor.block.block.slot)) {
        if (chain.importBlock(block, "restart").status === "imported") replayed++;
      }
      if (replayed > 0) logger.info("restored blocks from the database", { count: replayed, head: chain.head.slot });

      const sync = new SyncService({ chain, network, logger: logger.child("sync"), genesisStart: anchor.isGenesis });
      const protection = await SlashingProtection.open(options.dataDir, toHex(forkDigest));
      protectionRef = protection;
      const signingGuard = await startSigningGuard(
        options,
        { protection, clock, events, chain, isListening: () => sync.state === "SYNCED" },
        logger.child("validator"),
      );
      const duties = new ValidatorDuties({
        guard: signingGuard,
        indices: options.validatorIndices,
        isAggregator: options.isAggregator,
        chain,
        collector,
        logger: logger.child("validator"),
        subnetCount: options.chain.attestationCommitteeCount,
        observer: metricsBridge.dutyObserver(),
        publisher: {
          publishBlock: (b) => network.publishBlock(b),
          publishAttestation: (subnet, a) => network.publishAttestation(subnet, a),
          publishAggregate: (a) => network.publishAggregate(a),
        },
      });
      // Attestation signatures are checked off the main thread (the chain worker pool); a node
      // told to use 0 workers verifies on the main thread instead.
      const onBatch = (size: number) => metricsBridge.onBlsBatch(size);
      // The verifier keeps the validators' keys, so sets name validators by index (no per-set key
      // serialization or aggregation here).
      const validatorKeys = pubkeys.all();
      const verifier: BlsVerifier =
        options.blsWorkers === 0
          ? new MainThreadVerifier({ onBatch, validatorKeys })
          : new BlsVerifierPool({ workers: options.blsWorkers, onBatch, validatorKeys });
      if (verifier instanceof BlsVerifierPool) await verifier.ready();
      verifierRef = verifier;
      const ingress = new GossipIngress({
        verifier,
        chain,
        sync,
        clock,
        logger: logger.child("gossip"),
        onBlockProcessed: (seconds) => metricsBridge.onBlockProcessed(seconds),
      });
      ingressRef = ingress;
      ingress.register(network);
      sync.setBlockSubmitter((blocks, source, peer) => ingress.submitBlocks(blocks, source, peer));
      const slotLogger = new SlotLogger(logger.child("slot"));
      const tickCpu = new TickCpuWatch({ read: readMainThreadCpuTimes, now: () => clock.now() });

      const tracker = new IntervalTracker({
        clock,
        firstInterval: Math.max(chain.storeInterval + 1, clock.currentInterval()),
      });
      const driver = new Driver({
        clock,
        tracker,
        work: ingress,
        maxBatch: options.maxBatch,
        onTickLateness: (lateMs) => metricsBridge.onTick(lateMs, clock.now()),
        onPass: (batchSize, durationMs, idle) => metricsBridge.onPass(batchSize, durationMs, idle),
        hooks: {
          onInterval: (due) => {
            slotLogger.lateTick(due, tickCpu);
            runIntervalDuties(due, { chain, duties, clock });
            if (due.intervalInSlot === 4) {
              slotLogger.log(due.slot, chain, network.peerCount(), sync.state, driver.stats);
            }
            if (nodeRef !== null) metricsBridge.sync(nodeRef);
          },
          afterPass: () => {
            fetcher.tick();
            sync.tick();
          },
          onError: (err, where) => logger.error(`driver ${where} failed`, undefined, err),
        },
      });
      ingress.attachDriver(driver);
      // Blocks held back by the database write queue's back-pressure go on once it has room.
      chain.onWriteRoom(() => driver.notify());
      let nodeRef: BeaconNode | null = null;

      const node: BeaconNode = new BeaconNode({
        options,
        logger,
        db,
        chain,
        network,
        clock,
        driver,
        sync,
        ingress,
        duties,
        fetcher,
        metrics,
        metricsBridge,
        verifier,
        protection,
        signingGuard,
      });
      nodeRef = node;
      network.onPeerScoreDisconnect((peer, reason, score, penalties) =>
        logger.warn("peer disconnected and banned for its score", {
          peer,
          reason,
          score: Math.round(score),
          penalties: penalties === "" ? "none" : penalties,
        }),
      );
      await network.start();
      const subnets = attestationSubnetsToJoin(options.chain.attestationCommitteeCount, options);
      network.subscribe(subnets);
      sync.start();
      driver.start();
      node.stopTickCpuSampling = startTickCpuSampling(tickCpu, {
        now: () => clock.now(),
        nextBoundaryAfter: (ms) => clock.nextIntervalBoundaryMs(ms),
      });
      await node.startApi();
      await node.startMetrics();
      logger.info("node started", {
        peerId: network.peerId,
        listen: network.multiaddrs().join(","),
        head: `${chain.head.slot}/${shortRoot(chain.head.root)}`,
        finalized: chain.finalized.slot,
        validators: options.validatorIndices.length,
        aggregator: options.isAggregator,
        subnets: subnets.join(","),
        http: options.httpPort,
      });
      return node;
    } catch (err) {
      // A started network worker would keep the process alive after a failed start.
      await networkRef?.stop().catch(() => {});
      await verifierRef?.close();
      await protectionRef?.close();
      await db.close();
      throw err;
    }
  }

  private async startMetrics(): Promise<void> {
    if (this.options.metricsPort === 0) return;
    const registry = this.metrics.registry;
    this.metricsServer = await startMetricsServer({
      host: this.options.httpHost,
      port: this.options.metricsPort,
      // Mirror component counters right before every scrape.
      registry: {
        contentType: registry.contentType,
        // Rendered a slice at a time so a slot tick due mid-scrape is not held up (slicedRender.ts).
        metrics: () => {
          this.metricsBridge.sync(this);
          return renderMetricsInSlices(registry);
        },
      },
    });
  }

  private async startApi(): Promise<void> {
    if (this.options.httpPort === 0) return;
    const chain = this.chain;
    this.eventStream = eventsPlugin({
      events: chain.events,
      blockRootAtSlot: (head, slot) => chain.ancestorAtSlot(head, slot)?.root,
    });
    const leanRoutes = leanRoutesPlugin({
      finalizedAnchor: () => chain.finalizedAnchor(),
      forkChoiceNodes: () =>
        chain.forkChoiceNodes().map((n) => ({ ...n, proposerIndex: chain.getBlock(n.root)?.proposerIndex })),
      head: () => chain.head,
      justified: () => chain.justified,
      finalized: () => chain.finalized,
      safeTarget: () => chain.safeTarget,
      validatorCount: () => chain.validatorCount(),
    });
    const plugins: ((app: FastifyInstance) => void | Promise<void>)[] = [this.eventStream, leanRoutes];
    if (this.options.validatorApi) plugins.push(await validatorRoutes(this));
    this.api = await startApiServer({
      host: this.options.httpHost,
      port: this.options.httpPort,
      backend: nodeApiBackend(this, NODE_VERSION),
      plugins,
      stats: this.apiStats,
      onServerError: (err) => this.logger.error("HTTP API server error", undefined, err),
    });
  }

  health(): NodeHealth {
    return buildHealth(this);
  }

  get uptimeMs(): number {
    return Date.now() - this.startedAtMs;
  }

  async stop(): Promise<void> {
    this.logger.info("stopping");
    await this.driver.stop();
    this.stopTickCpuSampling();
    // A duty between its slashing-protection write and its publish finishes before the network stops.
    await this.duties.idle();
    this.sync.stop();
    this.fetcher.stop();
    if (this.api) await this.api.app.close();
    if (this.metricsServer) await this.metricsServer.close();
    this.metrics.close();
    await this.network.stop();
    await this.verifier.close();
    await this.chain.closeWrites(SHUTDOWN_WRITE_DRAIN_MS);
    await this.protection.close();
    await this.db.close();
    this.logger.info("stopped");
  }
}

// The composition root of a running node: database, fork-choice store, network, clock-driven main
// loop, validator duties, sync and the HTTP API. Start order matters (the store is restored before
// the network can deliver anything); stop is the reverse and bounded in time.

import { join } from "node:path";
import {
  Block,
  BlockBody,
  computeForkDigest,
  createGenesisBlock,
  ForkChoiceStore,
  PubkeyCache,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock as SignedBlockValue,
  SigningDomains,
  State,
  type State as StateValue,
  shortRoot,
  toHex,
} from "@metronome/chain";
import { IntervalTracker, SlotClock } from "@metronome/clock";
import { createMetrics, type MetricsServer, type MetronomeMetrics, startMetricsServer } from "@metronome/metrics";
import { gossipSeenTtlMs, NetworkHost } from "@metronome/network";
import type { FastifyInstance } from "fastify";
import type { ApiBackend, BlockIdQuery, HeaderSummary } from "../api/backend.ts";
import { isLoopbackHost, loadOrCreateToken, TOKEN_FILE_NAME } from "../api/bearerToken.ts";
import { type EventsPlugin, eventsPlugin } from "../api/events.ts";
import { leanRoutesPlugin } from "../api/leanRoutes.ts";
import { type ApiServer, startApiServer } from "../api/server.ts";
import { ApiServerStats } from "../api/serverLimits.ts";
import { validatorRoutesPlugin } from "../api/validatorRoutes.ts";
import { ChainEvents } from "../chain/chainEvents.ts";
import { ChainService } from "../chain/chainService.ts";
import { genesisStateOf } from "../config/genesisConfig.ts";
import { ChainDb } from "../db/chainDb.ts";
import { crashPoint } from "../db/crashHook.ts";
import type { NodeHealth } from "../devnet/health.ts";
import { Driver } from "../driver/driver.ts";
import { BlockFetcher } from "../runtime/blockFetcher.ts";
import { PendingAttestationBuffer } from "../runtime/pendingBuffer.ts";
import { SlashingProtection } from "../slashing/slashingProtection.ts";
import { OrphanBlocks } from "../sync/orphanBlocks.ts";
import { SyncService } from "../sync/syncService.ts";
import type { Logger } from "../util/logger.ts";
import { AttestationCollector } from "../validator/attestationCollector.ts";
import { ValidatorDuties } from "../validator/duties.ts";
import type { SigningGuard } from "../validator/signingGuard.ts";
import { startSigningGuard } from "../validator/startSigningGuard.ts";
import { MainThreadVerifier } from "../worker/mainThreadVerifier.ts";
import { BlsVerifierPool } from "../worker/pool.ts";
import type { BlsVerifier } from "../worker/types.ts";
import { publishApiAttestations } from "./apiAttestations.ts";
import { fetchCheckpointAnchor } from "./checkpointSync.ts";
import { GossipIngress } from "./gossipIngress.ts";
import { buildHealth } from "./health.ts";
import { MetricsBridge } from "./metricsBridge.ts";
import type { NodeOptions } from "./options.ts";
import { SlotLogger } from "./slotLogger.ts";

export const NODE_VERSION = "0.1.0";
/** Shutdown waits this long for queued database writes (a SIGTERM must stop within 5 s). */
const SHUTDOWN_WRITE_DRAIN_MS = 2_000;

export class BeaconNode {
  readonly options: NodeOptions;
  readonly logger: Logger;
  readonly db: ChainDb;
  readonly chain: ChainService;
  readonly network: NetworkHost;
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
  private genesisRootCache: Uint8Array | null = null;

  private constructor(parts: {
    options: NodeOptions;
    logger: Logger;
    db: ChainDb;
    chain: ChainService;
    network: NetworkHost;
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
    const genesisState = genesisStateOf(options.chain);
    const forkDigest = computeForkDigest(genesisState);
    const domains = new SigningDomains(forkDigest);
    const pubkeys = new PubkeyCache(genesisState.validators);
    const db = await ChainDb.open(options.dataDir, forkDigest);
    let verifierRef: BlsVerifier | null = null;
    let protectionRef: SlashingProtection | null = null;

    try {
      const anchor = await loadAnchor(db, genesisState, options, logger);
      const metrics = createMetrics({ client: `metronome_${options.nodeId ?? 0}`, version: NODE_VERSION });
      const metricsBridge = new MetricsBridge(metrics);
      const store = new ForkChoiceStore(anchor.state, anchor.block.block, pubkeys, domains, {
        onStateTransition: (timing) => metricsBridge.onStateTransition(timing),
      });
      const clock = new SlotClock({
        genesisTimeSec: options.chain.genesisTime,
        slotDurationMs: options.chain.slotDurationMs,
      });
      const events = new ChainEvents();
      metricsBridge.observeEvents(events);
      metrics.network.attestationCommitteeCount.set(options.chain.attestationCommitteeCount);
      const lowestValidator = Math.min(...options.validatorIndices);
      if (Number.isFinite(lowestValidator)) {
        // The subnet the node's first validator publishes on (it subscribes to every subnet).
        metrics.network.attestationCommitteeSubnet.set(lowestValidator % options.chain.attestationCommitteeCount);
      }
      const collector = new AttestationCollector();
      const network = new NetworkHost({
        forkDigest,
        listenAddresses: [options.listen],
        identitySeed: options.identitySeed,
        bootnodes: options.bootnodes,
        attestationSubnetCount: options.chain.attestationCommitteeCount,
        gossipSeenTtlMs: gossipSeenTtlMs(options.chain.slotDurationMs),
        slotDurationMs: options.chain.slotDurationMs,
        gossipMeshDegree: options.gossipMeshDegree,
      });
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
        isKnown: (root) => store.hasBlock(root) || orphans.has(root),
      });
      let chainRef: ChainService | null = null;
      const chain = new ChainService({
        store,
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
      if (replayed > 0) logger.info("restored blocks from the database", { count: replayed, head: store.head.slot });

      const sync = new SyncService({ chain, network, logger: logger.child("sync"), genesisStart: anchor.isGenesis });
      const protection = await SlashingProtection.open(options.dataDir, toHex(forkDigest));
      protectionRef = protection;
      const signingGuard = await startSigningGuard(
        options,
        { protection, clock, events, store, isListening: () => sync.state === "SYNCED" },
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
      const verifier: BlsVerifier =
        options.blsWorkers === 0
          ? new MainThreadVerifier({ onBatch })
          : new BlsVerifierPool({ workers: options.blsWorkers, onBatch });
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

      const tracker = new IntervalTracker({ clock, firstInterval: Math.max(store.time + 1, clock.currentInterval()) });
      const driver = new Driver({
        clock,
        tracker,
        work: ingress,
        maxBatch: options.maxBatch,
        onTickLateness: (lateMs) => metricsBridge.onTick(lateMs, clock.now()),
        onPass: (batchSize, durationMs, idle) => metricsBridge.onPass(batchSize, durationMs, idle),
        hooks: {
          onInterval: (due) => {
            const slot = due.slot;
            // A late tick still runs its duty while its slot is current; a stale slot's duty is skipped.
            const current = !due.caughtUp || slot === clock.currentSlot();
            switch (due.intervalInSlot) {
              case 0: {
                const proposer = duties.proposerFor(slot);
                chain.onInterval(due.interval, proposer !== null);
                // Signing waits on the synced slashing-protection write, never the clock.
                if (current) void duties.propose(slot);
                break;
              }
              case 1:
                chain.onInterval(due.interval, false);
                if (current) void duties.attest(slot);
                break;
              case 2:
                chain.onInterval(due.interval, false);
                if (current) duties.aggregate(slot);
                else duties.skipAggregation();
                break;
              default:
                chain.onInterval(due.interval, false);
            }
            if (due.intervalInSlot === 4) {
              slotLogger.log(slot, store, network.peerCount(), sync.state, driver.stats);
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
      chain.writes.onRoom(() => driver.notify());
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
      network.onPeerScoreDisconnect((peer, reason, score) =>
        logger.warn("peer disconnected and banned for its score", { peer, reason, score: Math.round(score) }),
      );
      await network.start();
      network.subscribe(Array.from({ length: options.chain.attestationCommitteeCount }, (_, i) => i));
      sync.start();
      driver.start();
      await node.startApi();
      await node.startMetrics();
      logger.info("node started", {
        peerId: network.peerId,
        listen: network.multiaddrs().join(","),
        head: `${store.head.slot}/${shortRoot(store.head.root)}`,
        finalized: store.latestFinalized.slot,
        validators: options.validatorIndices.length,
        aggregator: options.isAggregator,
        http: options.httpPort,
      });
      return node;
    } catch (err) {
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
        metrics: () => {
          this.metricsBridge.sync(this);
          return registry.metrics();
        },
      },
    });
  }

  private async startApi(): Promise<void> {
    if (this.options.httpPort === 0) return;
    const store = this.chain.store;
    const chain = this.chain;
    this.eventStream = eventsPlugin({
      events: chain.events,
      blockRootAtSlot: (head, slot) => store.getAncestorAtSlot(head, slot)?.root,
    });
    const leanRoutes = leanRoutesPlugin({
      finalizedAnchor: () => this.db.getAnchor(),
      forkChoiceNodes: () =>
        store.forkChoiceNodes().map((n) => ({ ...n, proposerIndex: store.getBlock(n.root)?.proposerIndex })),
      head: () => store.head,
      justified: () => store.latestJustified,
      finalized: () => store.latestFinalized,
      safeTarget: () => store.safeTarget,
      validatorCount: () => store.pubkeys.size,
    });
    const plugins: ((app: FastifyInstance) => void | Promise<void>)[] = [this.eventStream, leanRoutes];
    if (this.options.validatorApi) plugins.push(await this.validatorRoutes());
    this.api = await startApiServer({
      host: this.options.httpHost,
      port: this.options.httpPort,
      backend: this.backend(),
      plugins,
      stats: this.apiStats,
      onServerError: (err) => this.logger.error("HTTP API server error", undefined, err),
    });
  }

  /**
   * The validator client's routes. Bound to loopback they are open to this machine's users; bound
   * elsewhere they need the bearer token, read from --api-token-file or generated into the data dir.
   */
  private async validatorRoutes(): Promise<(app: FastifyInstance) => void> {
    const store = this.chain.store;
    const chain = this.chain;
    const network = this.network;
    const subnetCount = this.options.chain.attestationCommitteeCount;
    const genesisValidators = this.options.chain.validators;
    const { apiTokenFile, httpHost, dataDir } = this.options;
    let token: string | undefined;
    if (apiTokenFile !== undefined || !isLoopbackHost(httpHost)) {
      const file = apiTokenFile ?? join(dataDir, TOKEN_FILE_NAME);
      token = await loadOrCreateToken(file, apiTokenFile === undefined);
      this.logger.info("validator API needs a bearer token", { tokenFile: file });
    }
    return validatorRoutesPlugin(
      {
        currentSlot: () => Math.max(0, this.clock.currentSlot()),
        validatorCount: () => store.pubkeys.size,
        validatorPubkey: (i) => genesisValidators[i]?.pubkey,
        attestationSubnetCount: () => subnetCount,
        attestationData: (slot) => store.produceAttestationData(slot),
        produceBlock: (slot, proposer) => chain.produceBlock(slot, proposer),
        blockSigningRoot: (b) => store.domains.blockSigningRoot(b),
        publishBlock: async (signed) => {
          const outcome = chain.importBlock(signed, "api");
          if (outcome.status === "imported") {
            void network.publishBlock(signed).catch(() => {});
            return { status: "imported" };
          }
          if (outcome.status === "known") return { status: "known" };
          if (outcome.status === "orphan") return { status: "pending" };
          // The database write queue is full: not imported, not invalid; the client may post again.
          if (outcome.status === "deferred") return { status: "rejected", code: "DATABASE_BUSY" };
          return { status: "rejected", code: outcome.status === "invalid" ? outcome.code : "PRE_FINALIZED_SLOT" };
        },
        publishAttestations: (atts) =>
          publishApiAttestations(
            {
              chain,
              verifier: this.verifier,
              stats: this.apiStats,
              publish: (att) => void network.publishAttestation(att.validatorIndex % subnetCount, att).catch(() => {}),
            },
            atts,
          ),
      },
      { token, stats: this.apiStats },
    );
  }

  /** hash_tree_root of the genesis state (the fork digest is its first 4 bytes). */
  private get genesisStateRoot(): Uint8Array {
    this.genesisRootCache ??= State.hashTreeRoot(genesisStateOf(this.options.chain));
    return this.genesisRootCache;
  }

  health(): NodeHealth {
    return buildHealth(this);
  }

  private backend(): ApiBackend {
    const store = this.chain.store;
    return {
      health: () => this.health(),
      syncState: () => this.sync.state,
      headSlot: () => store.head.slot,
      currentSlot: () => Math.max(0, this.clock.currentSlot()),
      peerId: () => this.network.peerId,
      listenAddresses: () => this.network.multiaddrs(),
      peers: () => this.network.peers().map((peerId) => ({ peerId, address: "", direction: "outbound" as const })),
      version: () => NODE_VERSION,
      justified: () => store.latestJustified,
      finalized: () => store.latestFinalized,
      header: (id) => this.lookupHeader(id),
      genesis: () => ({
        genesisTime: this.options.chain.genesisTime,
        genesisValidatorsRoot: this.genesisStateRoot,
        genesisForkVersion: this.genesisStateRoot.slice(0, 4),
      }),
    };
  }

  /**
   * The canonical block root at `slot`: the head's chain in the store, else the database's
   * finalized index (the store keeps nothing below the finalized block; the database's index is
   * written just after finality moves, so the store answers for that short window).
   */
  private async canonicalRootAt(slot: number): Promise<Uint8Array | undefined> {
    const store = this.chain.store;
    return store.getAncestorAtSlot(store.head.root, slot)?.root ?? (await this.db.getFinalizedRoot(slot)) ?? undefined;
  }

  /** Canonical means on the head's chain; finalized history comes from the database. */
  private async lookupHeader(id: BlockIdQuery): Promise<HeaderSummary | null> {
    const store = this.chain.store;
    const finalized = store.latestFinalized;
    let root: Uint8Array | null | undefined;
    switch (id.kind) {
      case "head":
        root = store.head.root;
        break;
      case "finalized":
        root = finalized.root;
        break;
      case "justified":
        root = store.latestJustified.root;
        break;
      case "root":
        root = id.root;
        break;
      case "genesis":
        root = await this.db.getFinalizedRoot(0);
        break;
      case "slot":
        root = await this.canonicalRootAt(id.slot);
        break;
    }
    if (root === null || root === undefined) return null;
    const signed = await this.db.getBlock(root);
    const block = signed?.block ?? store.getBlock(root);
    if (block === undefined) return null;
    if (id.kind === "slot" && block.slot !== id.slot) return null;
    const canonicalRoot = await this.canonicalRootAt(block.slot);
    return {
      root,
      canonical: canonicalRoot !== null && canonicalRoot !== undefined && toHex(canonicalRoot) === toHex(root),
      header: {
        slot: block.slot,
        proposerIndex: block.proposerIndex,
        parentRoot: block.parentRoot,
        stateRoot: block.stateRoot,
        bodyRoot: BlockBody.hashTreeRoot(block.body),
      },
      signature: signed?.signature ?? new Uint8Array(96),
    };
  }

  get uptimeMs(): number {
    return Date.now() - this.startedAtMs;
  }

  async stop(): Promise<void> {
    this.logger.info("stopping");
    await this.driver.stop();
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

interface LoadedAnchor {
  state: StateValue;
  block: SignedBlockValue;
  isGenesis: boolean;
}

/** The database's finalized anchor, or genesis for a fresh data dir (written as the first anchor). */
async function loadAnchor(
  db: ChainDb,
  genesisState: StateValue,
  options: NodeOptions,
  logger: Logger,
): Promise<LoadedAnchor> {
  const stored = await db.getAnchor();
  if (stored !== null) {
    // A start killed between its first anchor and the marker: the anchor is durable, say so.
    if (!db.initialized) await db.markInitialized();
    const check = await db.checkCanonicalChain();
    logger.info("resuming from the database", {
      anchorSlot: stored.checkpoint.slot,
      root: shortRoot(stored.checkpoint.root),
      canonicalBlocksChecked: check.blocks,
      checkMs: Math.round(check.ms),
    });
    if (check.repaired > 0) {
      logger.warn("repaired the finalized index from the stored blocks' parent links", { entries: check.repaired });
    }
    return { state: stored.state, block: stored.block, isGenesis: stored.checkpoint.slot === 0 };
  }
  if (options.checkpointSyncUrl !== undefined) {
    const anchor = await fetchCheckpointAnchor(options.checkpointSyncUrl, {
      expected: { genesisState },
      timeoutMs: 60_000,
    });
    const checkpoint = { root: anchor.root, slot: anchor.block.block.slot };
    await db.putBlock(anchor.root, anchor.block);
    crashPoint("init:after-block");
    await db.finalize(checkpoint, State.serialize(anchor.state));
    crashPoint("init:after-anchor");
    await db.markInitialized();
    logger.info("starting from a checkpoint", {
      url: options.checkpointSyncUrl,
      slot: checkpoint.slot,
      root: shortRoot(checkpoint.root),
    });
    return { state: anchor.state, block: anchor.block, isGenesis: false };
  }
  const block: SignedBlockValue = { block: createGenesisBlock(genesisState), signature: new Uint8Array(96) };
  const root = Block.hashTreeRoot(block.block);
  await db.putBlock(root, block);
  crashPoint("init:after-block");
  await db.finalize({ root, slot: 0 }, State.serialize(genesisState));
  crashPoint("init:after-anchor");
  await db.markInitialized();
  logger.info("starting from genesis", { genesisTime: options.chain.genesisTime, root: shortRoot(root) });
  return { state: genesisState, block, isGenesis: true };
}

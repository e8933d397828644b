// Wires the validator client together: genesis and keys, the slashing-protection record (opened
// first, so a second client on the same data dir fails before touching any port), the beacon
// node list, the head monitor, the duty loop, the admin API and the metrics server.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { bytesEqual, fromHex, interopSecretKey, SigningDomains } from "@metronome/chain";
import { SlotClock } from "@metronome/clock";
import type { Logger } from "@metronome/common";
import { readGenesisFolder } from "@metronome/common";
import { type MetricsServer, startMetricsServer } from "@metronome/metrics";
import type { FastifyInstance } from "fastify";
import { type BeaconNodeView, loadOrCreateToken, startAdminApi, TOKEN_FILE_NAME } from "./adminApi.ts";
import { BeaconNodes, normalizeBeaconNodeUrls } from "./beaconNodes.ts";
import { HeadMonitor } from "./headMonitor.ts";
import { SlashingProtection } from "./slashing/slashingProtection.ts";
import { ValidatorClient, type ValidatorKey } from "./validatorClient.ts";
import { VcMetrics } from "./vcMetrics.ts";

export interface ValidatorClientServiceOptions {
  beaconNodes: string[];
  validatorIndices: number[];
  dataDir: string;
  genesisDir: string;
  httpHost: string;
  /** Admin API port; 0 picks a free one, null disables it. */
  httpPort: number | null;
  /** Metrics port; 0 picks a free one, null disables it. */
  metricsPort: number | null;
  /** Token file; default <dataDir>/api-token.txt, generated when missing. */
  tokenFile?: string;
  /** The beacon nodes' validator-API bearer token file (their --api-token-file); none by default. */
  beaconNodeTokenFile?: string;
  /** Deadline of one beacon node request; default a third of a slot, at least 250 ms. */
  requestTimeoutMs?: number;
}

export class ValidatorClientService {
  readonly client: ValidatorClient;
  readonly nodes: BeaconNodes;
  readonly monitor: HeadMonitor;
  readonly metrics: VcMetrics;
  readonly protection: SlashingProtection;
  readonly adminPort: number | null;
  readonly metricsPort: number | null;
  readonly tokenFile: string | null;
  private readonly admin: FastifyInstance | null;
  private readonly metricsServer: MetricsServer | null;
  private readonly statusTimer: NodeJS.Timeout;
  private readonly logger: Logger;
  private stopped = false;

  private constructor(parts: {
    client: ValidatorClient;
    nodes: BeaconNodes;
    monitor: HeadMonitor;
    metrics: VcMetrics;
    protection: SlashingProtection;
    admin: { app: FastifyInstance; port: number } | null;
    metricsServer: MetricsServer | null;
    statusTimer: NodeJS.Timeout;
    tokenFile: string | null;
    logger: Logger;
  }) {
    this.client = parts.client;
    this.nodes = parts.nodes;
    this.monitor = parts.monitor;
    this.metrics = parts.metrics;
    this.protection = parts.protection;
    this.admin = parts.admin?.app ?? null;
    this.adminPort = parts.admin?.port ?? null;
    this.metricsServer = parts.metricsServer;
    this.metricsPort = parts.metricsServer?.port ?? null;
    this.statusTimer = parts.statusTimer;
    this.tokenFile = parts.tokenFile;
    this.logger = parts.logger;
  }

  static async start(o: ValidatorClientServiceOptions, logger: Logger): Promise<ValidatorClientService> {
    const urls = normalizeBeaconNodeUrls(o.beaconNodes);
    const genesis = await readGenesisFolder(resolve(o.genesisDir));
    const chain = genesis.chain;
    if (o.validatorIndices.length === 0) throw new Error("--validator-indices: no validators given");
    const keys: ValidatorKey[] = [...new Set(o.validatorIndices)].map((index) => {
      const validator = chain.validators[index];
      if (validator === undefined) {
        throw new Error(
          `--validator-indices: ${index} is not a genesis validator (the genesis has ${chain.validators.length})`,
        );
      }
      const secretKey = interopSecretKey(index);
      const pubkey = secretKey.toPublicKey().toBytes();
      if (!bytesEqual(pubkey, validator.pubkey)) {
        throw new Error(`validator ${index}: the interop key does not match the genesis public key`);
      }
      return { index, secretKey, pubkey };
    });

    const dataDir = resolve(o.dataDir);
    await mkdir(dataDir, { recursive: true });
    const protection = await SlashingProtection.open(dataDir, chain.forkDigest);
    const cleanup: (() => Promise<unknown>)[] = [() => protection.close()];
    try {
      const metrics = new VcMetrics();
      const timeoutMs = o.requestTimeoutMs ?? Math.max(250, Math.floor(chain.slotDurationMs / 3));
      const beaconToken =
        o.beaconNodeTokenFile === undefined
          ? undefined
          : await loadOrCreateToken(resolve(o.beaconNodeTokenFile), false);
      const nodes = new BeaconNodes({
        urls,
        timeoutMs,
        token: beaconToken,
        onRequestError: (err) => metrics.requestErrors.inc({ url: err.url, kind: err.kind }),
      });
      const clock = new SlotClock({ genesisTimeSec: chain.genesisTime, slotDurationMs: chain.slotDurationMs });
      const domains = new SigningDomains(fromHex(chain.forkDigest));
      let clientRef: ValidatorClient | null = null;
      const monitorLog = logger.child("head-monitor");
      const monitor = new HeadMonitor({
        urls,
        genesisTimeMs: clock.genesisMs,
        slotDurationMs: chain.slotDurationMs,
        onHead: (h) => {
          nodes.noteHead(h.url, h.slot);
          clientRef?.onHead(h);
        },
        onReorg: (r) => clientRef?.onReorg(r),
        onError: (err) => monitorLog.warn("head monitor error", { error: err.message }),
        metrics: metrics.headMonitorMetrics(),
        log: (level, msg, ctx) => monitorLog[level](msg, ctx),
      });
      const client = new ValidatorClient({
        clock,
        nodes,
        heads: monitor,
        protection,
        keys,
        domains,
        metrics,
        logger: logger.child("validator"),
      });
      clientRef = client;

      const listNodes = (): BeaconNodeView[] => {
        const heads = monitor.heads();
        const lagging = monitor.laggingUrls();
        const ranked = nodes.ranked();
        return nodes.urls.map((url) => {
          const rank = ranked.findIndex((n) => n.client.url === url);
          const node = ranked[rank];
          const head = heads.get(url);
          return {
            url,
            rank,
            reachable: node?.status.reachable ?? false,
            synced: node?.status.synced ?? null,
            headSlot: node?.status.headSlot ?? null,
            lagging: lagging.has(url),
            requestErrors: node?.client.requestErrors ?? 0,
            head:
              head === undefined
                ? null
                : { slot: head.slot, root: head.root, receivedAtMs: head.receivedAtMs, delayMs: head.delayMs },
          };
        });
      };
      const replaceNodes = async (next: string[]): Promise<void> => {
        const removed = nodes.urls.filter((u) => !next.includes(u));
        nodes.replaceUrls(next);
        await monitor.replaceUrls(next);
        // After the monitor retired the old streams: their last callbacks cannot re-create series.
        metrics.forgetUrls(removed);
        logger.info("beacon node list replaced", { urls: next.join(",") });
        void nodes.refreshStatus();
      };

      let tokenFile: string | null = null;
      let admin: { app: FastifyInstance; port: number } | null = null;
      if (o.httpPort !== null) {
        tokenFile = o.tokenFile === undefined ? join(dataDir, TOKEN_FILE_NAME) : resolve(o.tokenFile);
        const token = await loadOrCreateToken(tokenFile, o.tokenFile === undefined);
        admin = await startAdminApi({ host: o.httpHost, port: o.httpPort, token, listNodes, replaceNodes });
        const app = admin.app;
        cleanup.push(() => app.close());
      }
      let metricsServer: MetricsServer | null = null;
      if (o.metricsPort !== null) {
        metricsServer = await startMetricsServer({ port: o.metricsPort, host: o.httpHost, registry: metrics.registry });
        const server = metricsServer;
        cleanup.push(() => server.close());
      }

      // Sync status of every node once a slot, in parallel, each with its own deadline.
      let polling = false;
      const statusTimer = setInterval(() => {
        if (polling) return;
        polling = true;
        void nodes.refreshStatus().finally(() => {
          polling = false;
        });
      }, chain.slotDurationMs);
      statusTimer.unref();
      await nodes.refreshStatus();

      monitor.start();
      client.start();
      logger.info("validator client started", {
        validators: keys.length,
        beacon_nodes: urls.join(","),
        admin_port: admin?.port,
        metrics_port: metricsServer?.port,
      });
      return new ValidatorClientService({
        client,
        nodes,
        monitor,
        metrics,
        protection,
        admin,
        metricsServer,
        statusTimer,
        tokenFile,
        logger,
      });
    } catch (err) {
      for (const step of cleanup.reverse()) await step().catch(() => {});
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.statusTimer);
    await this.client.stop();
    await this.monitor.stop();
    await this.admin?.close();
    await this.metricsServer?.close();
    // Last: duties in flight above may still be recording signatures.
    await this.protection.close();
    this.logger.info("validator client stopped");
  }
}

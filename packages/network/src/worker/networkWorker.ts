// NetworkWorker: the INetwork the node uses by default. It runs a NetworkHost in a worker thread
// (networkWorkerMain.ts) so libp2p, Noise, Yamux, gossipsub, snappy and SSZ decoding never share
// the event loop that services the slot clock. Gossip arrives through a GossipInbox in bounded
// batches; peers and counters are cached from the worker's periodic push. If the worker dies it is
// restarted with backoff, with the same identity seed and listen port, and its subscriptions and
// handlers are replayed; meanwhile the node sees no peers and calls fail with NOT_STARTED.
import { randomBytes } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { SignedAggregatedAttestation, SignedAttestation, SignedBlock, Status } from "@metronome/chain";
import type { ThreadPriorityResult } from "@metronome/clock/threadPriority";
import { GossipInbox } from "../boundary/gossipInbox.ts";
import type { ChannelLimits } from "../boundary/gossipOutbox.ts";
import type { BoundaryStats, FromWorker, ToWorker } from "../boundary/messages.ts";
import { errorMessage, NetworkError, NetworkErrorCode } from "../errors.ts";
import type { GossipHandler } from "../gossip/router.ts";
import { type GossipKind, normalizeForkDigest } from "../gossip/topics.ts";
import { PeerListeners } from "../host/peerListeners.ts";
import type {
  INetwork,
  NetworkMemoryStats,
  NetworkThreadHealth,
  PeerListener,
  PeerScoreSummary,
  ScoreDisconnectListener,
} from "../network.ts";
import { REQRESP_METHODS } from "../reqresp/protocols.ts";
import type { ReqRespHandlers } from "../reqresp/server.ts";
import type { GossipStatKind, LabelledNetworkStats, NetworkStats } from "../stats.ts";
import { pinListenPorts } from "./listenPorts.ts";
import { WorkerCalls } from "./workerCalls.ts";
import { type NetworkWorkerHostOptions, type NetworkWorkerInit, STATS_PUSH_MS } from "./workerInit.ts";
import { WorkerStatsCache } from "./workerStats.ts";

/** First restart 0.5 s after a death, doubling per death in a row up to 30 s. */
export const RESTART_BACKOFF_INITIAL_MS = 500;
export const RESTART_BACKOFF_MAX_MS = 30_000;
/** A worker that ran this long is healthy again: the next death restarts it after the initial delay. */
export const RESTART_BACKOFF_RESET_MS = 60_000;
/** stop() asks the worker to close libp2p cleanly, then terminates it after this. */
const STOP_GRACE_MS = 3_000;
/**
 * The worker's V8 young generation, in MiB: V8 counts three semi-spaces, so this is 16 MiB ones,
 * the size V8 starts them at here. Uncapped, V8 doubles the semi-spaces under a burst of
 * short-lived allocation (connection churn, decoding) and keeps them: in the hostile-peer bench
 * the worker's new space grew from 32 to 128 MiB committed while it hashed 2.6 MB blocks, and
 * still to 64 MiB once those were refused unread; capped, its heap peaked at 64-71 MiB instead of
 * 96-102. Scavenges run more often instead, on the worker's own thread, never the slot clock's.
 * A --max-semi-space-size on the command line would override it: the node clears that flag before
 * it starts the worker (clearDriverHeapFlagsForWorkers in @metronome/common).
 */
export const NETWORK_WORKER_MAX_YOUNG_GENERATION_MB = 48;
/**
 * The worker's V8 old generation cap, in MiB. Two jobs. The network's queues and caches have byte
 * caps of their own, so a heap past this is a leak or an attack they missed: the worker dies out of
 * memory and is restarted (peers reconnect, the chain goes on) instead of growing the process until
 * the OS kills the whole node. And V8 schedules its next full collection at most halfway from the
 * live heap to the cap: under a valid-signature flood (75-81 MiB live) the worker's committed heap
 * peaked at 168-187 MiB instead of 190-267 (docs/performance.md). The most any run has seen live
 * in the worker is 114 MiB (a valid flood before the copy window); 256 leaves twice that.
 */
export const NETWORK_WORKER_MAX_OLD_GENERATION_MB = 256;
/** Connected peers tracked from the worker's events (far above any connection cap). */
const MAX_TRACKED_PEERS = 4096;

export type NetworkWorkerLog = (
  level: "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export type NetworkWorkerOptions = NetworkWorkerHostOptions & {
  /** Lifecycle lines: the worker died, was restarted. */
  log?: NetworkWorkerLog;
  statsPushMs?: number;
  verdictDeadlineMs?: number;
  /** The gossip boundary's caps per kind; DEFAULT_CHANNEL_LIMITS unless a test needs less. */
  channelLimits?: Partial<Record<GossipKind, ChannelLimits>>;
  restartBackoffMs?: { initial: number; max: number };
  /** The worker's old-generation cap in MiB; NETWORK_WORKER_MAX_OLD_GENERATION_MB unless a test needs less. */
  maxOldGenerationMb?: number;
};

type StartWaiter = { resolve: () => void; reject: (err: Error) => void };

export class NetworkWorker implements INetwork {
  readonly forkDigest: string;
  private readonly options: NetworkWorkerOptions;
  private host: NetworkWorkerHostOptions;
  private readonly log: NetworkWorkerLog;
  private worker: Worker | null = null;
  private post: ((m: ToWorker) => void) | null = null;
  private readonly calls = new WorkerCalls();
  private readonly cache = new WorkerStatsCache();
  private readonly listeners = new PeerListeners();
  private readonly inbox: GossipInbox;
  private reqResp: Partial<ReqRespHandlers> = {};
  private readonly subnets = new Set<number>();
  private subscribed = false;
  private readonly connected = new Set<string>();
  private id: { peerId: string; multiaddrs: string[] } | null = null;
  private starting: StartWaiter | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private startedAtMs = 0;
  private restarts = 0;
  private down: string | null = null;

  constructor(options: NetworkWorkerOptions) {
    const { log, statsPushMs, verdictDeadlineMs, channelLimits, restartBackoffMs, ...host } = options;
    this.options = options;
    this.forkDigest = normalizeForkDigest(options.forkDigest);
    // A restarted worker must come back as the same peer: fix the identity now if none was given.
    this.host = { ...host, identitySeed: host.identitySeed ?? new Uint8Array(randomBytes(32)) };
    this.log = log ?? (() => {});
    this.backoffMs = restartBackoffMs?.initial ?? RESTART_BACKOFF_INITIAL_MS;
    this.inbox = new GossipInbox({
      forkDigest: this.forkDigest,
      postVerdicts: (ids, verdicts) => this.post?.({ type: "verdicts", ids, verdicts }),
    });
  }

  get peerId(): string {
    if (this.id === null) throw new NetworkError(NetworkErrorCode.NOT_STARTED, "network worker is not started");
    return this.id.peerId;
  }

  async start(): Promise<void> {
    if (this.worker !== null) return;
    this.stopping = false;
    await new Promise<void>((resolve, reject) => {
      this.starting = { resolve, reject };
      this.spawn();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const worker = this.worker;
    if (worker === null) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await this.calls.call(this.post, { op: "stop" }).catch(() => {});
    await worker.terminate();
    await exited;
    clearTimeout(grace);
  }

  /** Debug only (the restart test): terminates the worker as if it had crashed. */
  debugTerminateWorker(): void {
    void this.worker?.terminate();
  }

  multiaddrs(): string[] {
    return this.id === null ? [] : [...this.id.multiaddrs];
  }

  peers(): string[] {
    return [...this.connected];
  }

  peerCount(): number {
    return this.connected.size;
  }

  meshPeerCount(): number {
    return this.cache.meshPeerCount();
  }

  onPeerConnected(listener: PeerListener): () => void {
    return this.listeners.onConnected(listener);
  }

  onPeerDisconnected(listener: PeerListener): () => void {
    return this.listeners.onDisconnected(listener);
  }

  onPeerScoreDisconnect(listener: ScoreDisconnectListener): () => void {
    return this.listeners.onScoreDisconnect(listener);
  }

  setGossipHandler<K extends GossipKind>(kind: K, handler: GossipHandler<K> | undefined): void {
    this.inbox.setHandler(kind, handler);
    this.post?.({ type: "gossipKinds", kinds: this.inbox.kinds() });
  }

  subscribe(attestationSubnets: readonly number[] = []): void {
    this.subscribed = true;
    for (const subnet of attestationSubnets) this.subnets.add(subnet);
    void this.calls.call(this.post, { op: "subscribe", subnets: [...attestationSubnets] }).catch(() => {});
  }

  publishBlock(block: SignedBlock): Promise<number> {
    return this.calls.call(this.post, { op: "publishBlock", block });
  }

  publishAttestation(subnet: number, attestation: SignedAttestation): Promise<number> {
    return this.calls.call(this.post, { op: "publishAttestation", subnet, attestation });
  }

  publishAggregate(aggregate: SignedAggregatedAttestation): Promise<number> {
    return this.calls.call(this.post, { op: "publishAggregate", aggregate });
  }

  setReqRespHandlers(handlers: Partial<ReqRespHandlers>): void {
    this.reqResp = { ...handlers };
    this.sendReqRespHandlers();
  }

  status(peer: string): Promise<Status> {
    return this.calls.call(this.post, { op: "status", peer });
  }

  blocksByRoot(peer: string, roots: readonly Uint8Array[]): Promise<SignedBlock[]> {
    return this.calls.call(this.post, { op: "blocksByRoot", peer, roots: [...roots] });
  }

  blocksByRange(peer: string, startSlot: number, count: number): Promise<SignedBlock[]> {
    return this.calls.call(this.post, { op: "blocksByRange", peer, startSlot, count });
  }

  stats(): NetworkStats {
    return this.cache.stats();
  }

  labelledStats(): LabelledNetworkStats {
    return this.cache.labelled();
  }

  drainGossipSizes(): Record<GossipStatKind, number[]> {
    return this.cache.drainGossipSizes();
  }

  peerScoreStats(): PeerScoreSummary {
    return this.cache.peerScores();
  }

  drainPeerScoreSamples(): number[] {
    return this.cache.drainScoreSamples();
  }

  holdGossip(kind: GossipKind, peer: string, ms: number): void {
    this.post?.({ type: "holdGossip", kind, peer, ms });
  }

  /** The gossip boundary's own counters: drops by reason, verdict timeouts, batches. */
  boundaryStats(): BoundaryStats {
    return this.cache.boundary();
  }

  threadHealth(): NetworkThreadHealth {
    return { thread: "worker", restarts: this.restarts, down: this.down };
  }

  memoryStats(): NetworkMemoryStats {
    return this.cache.memoryStats();
  }

  // ---- the worker's life ----

  private spawn(): void {
    const init: NetworkWorkerInit = {
      host: this.host,
      statsPushMs: this.options.statsPushMs ?? STATS_PUSH_MS,
      verdictDeadlineMs: this.options.verdictDeadlineMs,
      channelLimits: this.options.channelLimits,
    };
    const worker = new Worker(new URL("./networkWorkerMain.ts", import.meta.url), {
      workerData: init,
      resourceLimits: {
        maxYoungGenerationSizeMb: NETWORK_WORKER_MAX_YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: this.options.maxOldGenerationMb ?? NETWORK_WORKER_MAX_OLD_GENERATION_MB,
      },
    });
    this.worker = worker;
    const post = (m: ToWorker) => worker.postMessage(m);
    this.post = post;
    let lastError: string | null = null;
    worker.on("message", (m: FromWorker) => {
      if (this.worker === worker) this.onMessage(m);
    });
    worker.on("error", (err) => {
      lastError = errorMessage(err);
    });
    worker.on("exit", (code) => {
      if (this.worker === worker) this.onExit(code, lastError);
    });
    post({ type: "gossipKinds", kinds: this.inbox.kinds() });
    this.sendReqRespHandlers();
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case "gossip":
        this.inbox.receive(m.items);
        break;
      case "result":
        if (m.ok) this.calls.resolve(m.id, m.value);
        else this.calls.reject(m.id, m.error);
        break;
      case "stats":
        this.cache.handlerErrors = this.inbox.handlerErrors;
        this.cache.update(m.snapshot);
        break;
      case "peerConnected":
        if (this.connected.size < MAX_TRACKED_PEERS) this.connected.add(m.peer);
        this.listeners.connected(m.peer);
        break;
      case "peerDisconnected":
        this.connected.delete(m.peer);
        this.listeners.disconnected(m.peer);
        break;
      case "scoreDisconnect":
        this.listeners.scoreDisconnect(m.peer, m.reason, m.score, m.penalties);
        break;
      case "serve":
        void this.serve(m.id, m.request);
        break;
      case "peerStatus":
        this.reqResp.onPeerStatus?.(m.peer, m.status);
        break;
      case "started":
        this.onStarted(m.peerId, m.multiaddrs, m.threadPriority);
        break;
      case "startFailed":
        this.onStartFailed(m.error.message);
        break;
    }
  }

  private onStarted(peerId: string, multiaddrs: string[], priority: ThreadPriorityResult): void {
    const restarted = this.id !== null;
    if (!restarted) {
      if (priority.applied) this.log("info", "network worker runs below the driver thread", { nice: priority.nice });
      else this.log("warn", "network worker shares the driver thread's priority", { reason: priority.reason });
    }
    this.id = { peerId, multiaddrs };
    // A restart must listen where peers and bootnode lists expect us, even if we asked for port 0.
    this.host = { ...this.host, listenAddresses: pinListenPorts(this.host.listenAddresses, multiaddrs) };
    this.startedAtMs = Date.now();
    this.down = null;
    if (this.subscribed) this.subscribe([...this.subnets]);
    if (restarted) this.log("info", "network worker restarted", { restarts: this.restarts, peerId });
    const waiter = this.starting;
    this.starting = null;
    waiter?.resolve();
  }

  private onStartFailed(message: string): void {
    const waiter = this.starting;
    this.starting = null;
    this.down = `network worker failed to start: ${message}`;
    void this.worker?.terminate();
    waiter?.reject(new NetworkError(NetworkErrorCode.NOT_STARTED, `network failed to start: ${message}`));
  }

  private onExit(code: number, lastError: string | null): void {
    this.worker = null;
    this.post = null;
    this.calls.failAll("network worker exited");
    this.inbox.reset();
    this.cache.fold();
    const peers = [...this.connected];
    this.connected.clear();
    for (const peer of peers) this.listeners.disconnected(peer);
    const waiter = this.starting;
    this.starting = null;
    if (this.stopping) return;
    const reason = `network worker exited (code ${code}${lastError === null ? "" : `: ${lastError}`})`;
    if (this.id === null) {
      // The first start failed: the node's start fails with it (a port in use, a bad address, a heap
      // too small to load libp2p).
      this.down ??= reason;
      waiter?.reject(new NetworkError(NetworkErrorCode.NOT_STARTED, this.down));
      return;
    }
    if (Date.now() - this.startedAtMs >= RESTART_BACKOFF_RESET_MS) {
      this.backoffMs = this.options.restartBackoffMs?.initial ?? RESTART_BACKOFF_INITIAL_MS;
    }
    this.down = reason;
    this.log("error", `${reason}; restarting it`, { inMs: this.backoffMs, restarts: this.restarts });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.restarts++;
      this.spawn();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.restartBackoffMs?.max ?? RESTART_BACKOFF_MAX_MS);
  }

  private sendReqRespHandlers(): void {
    const methods = REQRESP_METHODS.filter((m) => this.reqResp[m] !== undefined);
    this.post?.({ type: "reqRespHandlers", methods, peerStatus: this.reqResp.onPeerStatus !== undefined });
  }

  private async serve(id: number, request: Extract<FromWorker, { type: "serve" }>["request"]): Promise<void> {
    const post = this.post;
    try {
      const h = this.reqResp;
      switch (request.method) {
        case "status": {
          if (h.status === undefined) throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "no status handler");
          post?.({ type: "served", id, method: "status", ok: true, value: await h.status() });
          break;
        }
        case "blocksByRoot": {
          if (h.blocksByRoot === undefined) throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "no handler");
          const value = [...(await h.blocksByRoot(request.roots, request.peer))];
          post?.({ type: "served", id, method: "blocksByRoot", ok: true, value });
          break;
        }
        case "blocksByRange": {
          if (h.blocksByRange === undefined) throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "no handler");
          const value = [...(await h.blocksByRange(request.startSlot, request.count, request.peer))];
          post?.({ type: "served", id, method: "blocksByRange", ok: true, value });
          break;
        }
      }
    } catch (err) {
      const code = err instanceof NetworkError ? err.code : null;
      post?.({ type: "served", id, ok: false, error: { code, message: errorMessage(err) } });
    }
  }
}

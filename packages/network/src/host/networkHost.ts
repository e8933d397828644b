// NetworkHost owns the libp2p node: TCP + Noise + Yamux, identify, ping, gossipsub and the three
// req/resp protocols. The node talks to it with plain values (peer ids as strings, multiaddrs as
// strings, SSZ values); no libp2p type crosses this class's public surface.
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { GossipSub } from "@libp2p/gossipsub";
import { gossipsub } from "@libp2p/gossipsub";
import { type Identify, identify } from "@libp2p/identify";
import type { Libp2p, PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import {
  ATTESTATION_COMMITTEE_COUNT,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  type Status,
} from "@metronome/chain";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { errorMessage, NetworkError, NetworkErrorCode } from "../errors.ts";
import { type GossipValueByKind, serializeGossipValue } from "../gossip/codec.ts";
import { capDeliveryRecordLifetime } from "../gossip/deliveryRecords.ts";
import { DecompressedPayloads, GOSSIP_SEEN_TTL_MS, gossipsubOptions } from "../gossip/options.ts";
import { type GossipHandler, GossipRouter } from "../gossip/router.ts";
import {
  aggregationTopic,
  attestationTopic,
  blockTopic,
  type GossipKind,
  type GossipTopic,
  gossipTopicName,
  normalizeForkDigest,
} from "../gossip/topics.ts";
import type {
  INetwork,
  NetworkThreadHealth,
  PeerListener,
  PeerScoreSummary,
  ScoreDisconnectListener,
} from "../network.ts";
import { ReqRespClient } from "../reqresp/client.ts";
import { REQRESP_METHODS, type ReqRespMethod, ReqRespProtocol } from "../reqresp/protocols.ts";
import { type RateLimits, type ReqRespHandlers, ReqRespServer } from "../reqresp/server.ts";
import type { ResponseChunk } from "../reqresp/wire.ts";
import {
  type Direction,
  type GossipStatKind,
  type LabelledNetworkStats,
  NetworkCounters,
  type NetworkStats,
} from "../stats.ts";
import { BootnodeDialer, DEFAULT_REDIAL, type RedialOptions } from "./bootnodes.ts";
import { peerIdFromSeed, privateKeyFromSeed } from "./identity.ts";
import { PeerDefence } from "./peerDefence.ts";
import { type PeerAction, PeerScoreStore } from "./peerScores.ts";
import { sendWindowUpdatesAtHalfWindow } from "./yamuxWindowUpdates.ts";

export type NetworkHostOptions = {
  /** 4-byte fork digest (bytes or hex); every topic is scoped to it. */
  forkDigest: string | Uint8Array;
  /** Default ["/ip4/0.0.0.0/tcp/9000"]. Tests use "/ip4/127.0.0.1/tcp/0". */
  listenAddresses?: readonly string[];
  announceAddresses?: readonly string[];
  /** 32 bytes; the node's Ed25519 identity is derived from it. Random when absent. */
  identitySeed?: Uint8Array;
  /** Multiaddrs (ideally ending in /p2p/<peer id>) dialed at start and redialed when lost. */
  bootnodes?: readonly string[];
  /** Attestation subnets that exist on this network (topics outside them are ignored). */
  attestationSubnetCount?: number;
  /** Connection cap handed to libp2p's connection manager. Default 100. */
  maxPeers?: number;
  /** New inbound connections accepted per second from one host. Default 25. */
  inboundConnectionThreshold?: number;
  /** Inbound connections still in their Noise/Yamux upgrade at once. Default MAX_INBOUND_PENDING. */
  maxInboundPendingConnections?: number;
  /** Time an inbound connection has to finish its upgrade. Default INBOUND_UPGRADE_TIMEOUT_MS. */
  inboundUpgradeTimeoutMs?: number;
  /** Slot length: peer-score credit and decay are counted in slots. Default 4 s. */
  slotDurationMs?: number;
  /**
   * Default true: a peer below the graylist or the application disconnect threshold is cut off
   * and banned. False keeps every peer connected whatever its score (for wire-level tests that
   * misbehave on purpose); scores are still kept and gossipsub still applies its thresholds.
   */
  peerScoreDisconnects?: boolean;
  /** The clock the application peer score decays and bans expire by (tests move it). */
  scoreClock?: () => number;
  reqResp?: {
    /** Whole-exchange timeout, outbound and inbound. Default 10 s. */
    timeoutMs?: number;
    /** Bytes one response may bring, all chunks together. Default MAX_RESPONSE_BYTES (32 MiB). */
    maxResponseBytes?: number;
    rateLimits?: Partial<RateLimits>;
  };
  redial?: Partial<RedialOptions>;
  gossipHeartbeatMs?: number;
  /** Target gossip mesh degree D; default PROTOCOL.md's 8 (tests lower it for multi-hop meshes). */
  gossipMeshDegree?: number;
  /** How long seen gossip message ids are remembered (leanSpec: slot * 6; default for 4 s slots). */
  gossipSeenTtlMs?: number;
  /** Gossip validations in flight at once, per topic kind, before new ones are ignored (router defaults). */
  maxPendingGossipValidations?: Partial<Record<GossipKind, number>>;
};

type Services = { identify: Identify; ping: Ping; pubsub: GossipSub };
type GossipHandlers = { [K in GossipKind]?: GossipHandler<K> };

const DEFAULT_LISTEN = ["/ip4/0.0.0.0/tcp/9000"];
const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 25;
/**
 * An idle socket holds a pending slot until its upgrade times out, so one host can hold at most
 * threshold (25/s) x timeout (4 s) = 100 slots; with 128 it can never take the last one, and an
 * honest peer still gets in (libp2p's default of 10 let 12 idle sockets lock peers out).
 */
export const MAX_INBOUND_PENDING = 128;
/** A Noise + Yamux upgrade takes milliseconds on a healthy link; an idle socket is cut after 4 s. */
export const INBOUND_UPGRADE_TIMEOUT_MS = 4_000;
const DEFAULT_SLOT_DURATION_MS = 4_000;
const STREAMS_PER_PROTOCOL = 16;
/** Bound on the per-peer bookkeeping behind the connection metrics (far above any connection cap). */
const MAX_TRACKED_PEERS = 4096;

export class NetworkHost implements INetwork {
  readonly forkDigest: string;
  private readonly options: NetworkHostOptions;
  private readonly subnetCount: number;
  private readonly counters = new NetworkCounters();
  private readonly payloads = new DecompressedPayloads();
  private readonly scores: PeerScoreStore;
  private defence: PeerDefence | undefined;
  private readonly server: ReqRespServer;
  private readonly client: ReqRespClient;
  private readonly gossipHandlers: GossipHandlers = {};
  private readonly connectListeners = new Set<PeerListener>();
  private readonly disconnectListeners = new Set<PeerListener>();
  private readonly scoreDisconnectListeners = new Set<ScoreDisconnectListener>();
  /** Direction of each connected peer's first connection, for the disconnection metric. */
  private readonly peerDirections = new Map<string, Direction>();
  /** Peers this node is hanging up on: their disconnection is a local close. */
  private readonly hangingUp = new Set<string>();
  private node: Libp2p<Services> | undefined;
  /** Whether gossipsub's delivery records got the seen-cache lifetime (see deliveryRecords.ts). */
  deliveryRecordsCapped = false;
  /** Whether yamux streams send window updates at half the window, not after every frame. */
  yamuxUpdatesAtHalfWindow = false;
  private router: GossipRouter | undefined;
  private bootnodes: BootnodeDialer | undefined;

  constructor(options: NetworkHostOptions) {
    this.options = options;
    this.forkDigest = normalizeForkDigest(options.forkDigest);
    this.subnetCount = options.attestationSubnetCount ?? ATTESTATION_COMMITTEE_COUNT;
    if (!Number.isSafeInteger(this.subnetCount) || this.subnetCount < 1) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "attestationSubnetCount must be >= 1");
    }
    const timeoutMs = options.reqResp?.timeoutMs;
    this.scores = new PeerScoreStore(options.scoreClock);
    const onPeerAction = (peer: string, action: PeerAction) => this.penalise(peer, action);
    this.server = new ReqRespServer({
      counters: this.counters,
      timeoutMs,
      rateLimits: options.reqResp?.rateLimits,
      onPeerAction,
    });
    this.client = new ReqRespClient((peer, protocol, signal) => this.openStream(peer, protocol, signal), {
      counters: this.counters,
      timeoutMs,
      maxResponseBytes: options.reqResp?.maxResponseBytes,
      onPeerAction,
    });
  }

  /** The peer id a host started with `seed` will have (for genesis tooling). */
  static peerIdFromSeed(seed: Uint8Array): Promise<string> {
    return peerIdFromSeed(seed);
  }

  get isStarted(): boolean {
    return this.node !== undefined;
  }

  get peerId(): string {
    return this.libp2p().peerId.toString();
  }

  async start(): Promise<void> {
    if (this.node !== undefined) return;
    const privateKey = await privateKeyFromSeed(this.options.identitySeed);
    this.yamuxUpdatesAtHalfWindow = sendWindowUpdatesAtHalfWindow();
    const node = await createLibp2p<Services>({
      privateKey,
      addresses: {
        listen: [...(this.options.listenAddresses ?? DEFAULT_LISTEN)],
        announce: [...(this.options.announceAddresses ?? [])],
      },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: {
        maxConnections: this.options.maxPeers ?? 100,
        inboundConnectionThreshold: this.options.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
        maxIncomingPendingConnections: this.options.maxInboundPendingConnections ?? MAX_INBOUND_PENDING,
        inboundUpgradeTimeout: this.options.inboundUpgradeTimeoutMs ?? INBOUND_UPGRADE_TIMEOUT_MS,
      },
      // A peer disconnected for its score is refused both ways until its ban expires.
      connectionGater: {
        denyDialPeer: (peer) => this.scores.refuses(peer.toString()),
        denyInboundEncryptedConnection: (peer) => this.scores.refuses(peer.toString()),
      },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub(
          gossipsubOptions({
            payloads: this.payloads,
            counters: this.counters,
            forkDigest: this.forkDigest,
            attestationSubnetCount: this.subnetCount,
            slotDurationMs: this.options.slotDurationMs ?? DEFAULT_SLOT_DURATION_MS,
            appScore: (peer) => this.scores.score(peer),
            allowedTopics: this.allTopicNames(),
            heartbeatMs: this.options.gossipHeartbeatMs,
            seenTtlMs: this.options.gossipSeenTtlMs,
            meshDegree: this.options.gossipMeshDegree,
          }),
        ),
      },
    });
    node.addEventListener("peer:connect", (event) => {
      this.countConnected(node, event.detail);
      this.emit(this.connectListeners, event.detail);
    });
    node.addEventListener("peer:disconnect", (event) => {
      this.countDisconnected(event.detail.toString());
      // Rate-limit buckets outlive the connection on purpose: reconnecting must not refill them.
      this.bootnodes?.onPeerDisconnected(event.detail.toString());
      this.emit(this.disconnectListeners, event.detail);
    });
    for (const method of REQRESP_METHODS) {
      await node.handle(
        ReqRespProtocol[method],
        (stream, connection) => this.server.handle(method, stream, connection.remotePeer.toString()),
        { maxInboundStreams: STREAMS_PER_PROTOCOL, maxOutboundStreams: STREAMS_PER_PROTOCOL },
      );
    }
    this.node = node;
    this.deliveryRecordsCapped = capDeliveryRecordLifetime(
      node.services.pubsub,
      this.options.gossipSeenTtlMs ?? GOSSIP_SEEN_TTL_MS,
    );
    this.router = new GossipRouter(node.services.pubsub, {
      forkDigest: this.forkDigest,
      counters: this.counters,
      payloads: this.payloads,
      maxPendingValidations: this.options.maxPendingGossipValidations,
      attestationSubnetCount: this.subnetCount,
    });
    const pubsub = node.services.pubsub;
    this.defence = new PeerDefence({
      store: this.scores,
      peers: () => this.peers(),
      gossipScore: (peer) => gossipsubScore(pubsub, peer),
      disconnect: (peer) => this.disconnect(peer),
      enabled: this.options.peerScoreDisconnects ?? true,
      onDisconnect: (peer, reason, score) => {
        for (const listener of this.scoreDisconnectListeners) {
          try {
            listener(peer, reason, score);
          } catch {
            // A listener's bug must not stop the disconnection.
          }
        }
      },
    });
    this.defence.start();
    for (const kind of Object.keys(this.gossipHandlers) as GossipKind[]) {
      this.router.setHandler(kind, this.gossipHandlers[kind] as GossipHandler<typeof kind>);
    }
    this.bootnodes = new BootnodeDialer(
      this.options.bootnodes ?? [],
      {
        dial: (addr, signal) => this.dial(addr, signal),
        isConnected: (peer) => this.isConnected(peer),
        counters: this.counters,
      },
      { ...DEFAULT_REDIAL, ...this.options.redial },
    );
    this.bootnodes.start();
  }

  async stop(): Promise<void> {
    const node = this.node;
    if (node === undefined) return;
    this.bootnodes?.stop();
    this.bootnodes = undefined;
    this.defence?.stop();
    this.defence = undefined;
    this.router = undefined;
    this.node = undefined;
    await node.stop();
  }

  multiaddrs(): string[] {
    return this.libp2p()
      .getMultiaddrs()
      .map((m) => m.toString());
  }

  peers(): string[] {
    return this.node === undefined ? [] : this.node.getPeers().map((p) => p.toString());
  }

  peerCount(): number {
    return this.node === undefined ? 0 : this.node.getPeers().length;
  }

  isConnected(peer: string): boolean {
    const node = this.node;
    if (node === undefined) return false;
    const id = parsePeerId(peer);
    return id !== null && node.getConnections(id).length > 0;
  }

  /** Dials a multiaddr; resolves to the remote peer id. */
  async dial(addr: string, signal?: AbortSignal): Promise<string> {
    const node = this.libp2p();
    try {
      const connection = await node.dial(multiaddr(addr), { signal });
      return connection.remotePeer.toString();
    } catch (err) {
      this.counters.labelled.values.peerConnections.outbound[signal?.aborted === true ? "timeout" : "error"]++;
      throw new NetworkError(NetworkErrorCode.DIAL_FAILED, `${addr}: ${errorMessage(err)}`);
    }
  }

  async disconnect(peer: string): Promise<void> {
    const id = parsePeerId(peer);
    if (this.node === undefined || id === null) return;
    if (this.hangingUp.size >= MAX_TRACKED_PEERS) this.hangingUp.clear();
    this.hangingUp.add(peer);
    await this.node.hangUp(id).catch(() => {});
  }

  /** Registers a listener; returns the function that removes it. */
  onPeerConnected(listener: PeerListener): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  /** Registers a listener for peers cut off for their score; returns the function that removes it. */
  onPeerScoreDisconnect(listener: ScoreDisconnectListener): () => void {
    this.scoreDisconnectListeners.add(listener);
    return () => this.scoreDisconnectListeners.delete(listener);
  }

  onPeerDisconnected(listener: PeerListener): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  // ---- gossip ----

  /** The node's verdict on each decoded message of `kind` decides whether it propagates. */
  setGossipHandler<K extends GossipKind>(kind: K, handler: GossipHandler<K> | undefined): void {
    (this.gossipHandlers as Record<K, GossipHandler<K> | undefined>)[kind] = handler;
    this.router?.setHandler(kind, handler);
  }

  /** Subscribes to the block and aggregation topics and to the given attestation subnets. */
  subscribe(attestationSubnets: readonly number[] = []): void {
    const router = this.gossip();
    router.subscribe(blockTopic(this.forkDigest));
    router.subscribe(aggregationTopic(this.forkDigest));
    for (const subnet of attestationSubnets) this.subscribeAttestationSubnet(subnet);
  }

  subscribeAttestationSubnet(subnet: number): void {
    this.gossip().subscribe(attestationTopic(this.forkDigest, this.checkSubnet(subnet)));
  }

  unsubscribeAttestationSubnet(subnet: number): void {
    this.gossip().unsubscribe(attestationTopic(this.forkDigest, this.checkSubnet(subnet)));
  }

  subscribedTopics(): string[] {
    return this.router?.subscribedTopics() ?? [];
  }

  /** Full topic string for `kind` (subnet only for attestations). */
  topicName(kind: GossipKind, subnet = 0): string {
    return gossipTopicName(this.topic(kind, subnet));
  }

  /** Peers known to be subscribed to the topic. */
  gossipSubscribers(kind: GossipKind, subnet = 0): string[] {
    return this.router?.subscribers(this.topic(kind, subnet)) ?? [];
  }

  /** Peers in our gossip mesh for the topic (the ones we forward its messages to). */
  gossipMeshPeers(kind: GossipKind, subnet = 0): string[] {
    return this.router?.meshPeers(this.topic(kind, subnet)) ?? [];
  }

  /** Each publish resolves to the number of peers the message was sent to. */
  publishBlock(block: SignedBlock | Uint8Array): Promise<number> {
    return this.publish("block", 0, block);
  }

  publishAttestation(subnet: number, attestation: SignedAttestation | Uint8Array): Promise<number> {
    return this.publish("attestation", this.checkSubnet(subnet), attestation);
  }

  publishAggregate(aggregate: SignedAggregatedAttestation | Uint8Array): Promise<number> {
    return this.publish("aggregation", 0, aggregate);
  }

  /** Publishes `data` as-is, without compression (tests and tooling). */
  publishRaw(topicName: string, data: Uint8Array): Promise<number> {
    return this.gossip().publishRaw(topicName, data);
  }

  // ---- req/resp ----

  setReqRespHandlers(handlers: Partial<ReqRespHandlers>): void {
    this.server.setHandlers(handlers);
  }

  /** Exchanges Status with `peer`, sending ours from the registered `status` handler. */
  async status(peer: string): Promise<Status> {
    const ours = this.server.getHandlers().status;
    if (ours === undefined) throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "no status handler registered");
    return this.client.status(peer, await ours());
  }

  blocksByRoot(peer: string, roots: readonly Uint8Array[]): Promise<SignedBlock[]> {
    return this.client.blocksByRoot(peer, roots);
  }

  blocksByRange(peer: string, startSlot: number, count: number): Promise<SignedBlock[]> {
    return this.client.blocksByRange(peer, startSlot, count);
  }

  /** Sends raw request bytes on `method`'s protocol and returns every chunk uninterpreted. */
  requestRaw(peer: string, method: ReqRespMethod, bytes: Uint8Array, maxChunks = 1024): Promise<ResponseChunk[]> {
    return this.client.requestRaw(peer, ReqRespProtocol[method], bytes, maxChunks);
  }

  // ---- peer scores ----

  /** Charges `peer` for a req/resp offence (the host's own req/resp reports these itself). */
  penalise(peer: string, action: PeerAction): void {
    if (this.defence !== undefined) this.defence.penalise(peer, action);
    else this.scores.apply(peer, action);
  }

  /** The peer's gossipsub score (P5 includes the application score); 0 before start. */
  gossipScore(peer: string): number {
    return this.node === undefined ? 0 : gossipsubScore(this.node.services.pubsub, peer);
  }

  /** The peer's application-level score (req/resp offences, decaying toward 0). */
  appScore(peer: string): number {
    return this.scores.score(peer);
  }

  isBanned(peer: string): boolean {
    return this.scores.isBanned(peer);
  }

  /** Runs one score check now (the host does it every second); for tests and tooling. */
  checkPeerScores(): void {
    this.defence?.check();
  }

  /** Penalties, score disconnections by reason, bans, and the graylist counts. */
  peerScoreStats(): PeerScoreSummary {
    const defence = this.defence?.stats() ?? { graylistedNow: 0, graylistedTotal: 0 };
    return { ...this.scores.snapshot(), ...defence };
  }

  /** Gossip scores of connected peers sampled once a second since the last call (for a histogram). */
  drainPeerScoreSamples(): number[] {
    return this.defence?.drainScoreSamples() ?? [];
  }

  /** Gossip payloads decompressed so far (the cheap checks run before this). */
  gossipDecompressions(): number {
    return this.payloads.decompressions;
  }

  stats(): NetworkStats {
    return this.counters.snapshot();
  }

  /** Gossip verdicts per topic kind, req/resp results per protocol and direction, peer events. */
  labelledStats(): LabelledNetworkStats {
    return this.counters.labelled.snapshot();
  }

  /** Sizes of the gossip messages received since the last call (sampled: bounded per kind). */
  drainGossipSizes(): Record<GossipStatKind, number[]> {
    return this.counters.gossipSizes.drain();
  }

  threadHealth(): NetworkThreadHealth {
    return { thread: "main", restarts: 0, down: null };
  }

  /** Distinct peers in our mesh over every topic this node can subscribe to. */
  meshPeerCount(): number {
    if (this.router === undefined) return 0;
    const peers = new Set<string>([...this.gossipMeshPeers("block"), ...this.gossipMeshPeers("aggregation")]);
    for (let subnet = 0; subnet < this.subnetCount; subnet++) {
      for (const peer of this.gossipMeshPeers("attestation", subnet)) peers.add(peer);
    }
    return peers.size;
  }

  // ---- internals ----

  private async publish<K extends GossipKind>(
    kind: K,
    subnet: number,
    value: GossipValueByKind[K] | Uint8Array,
  ): Promise<number> {
    const ssz = value instanceof Uint8Array ? value : serializeGossipValue(kind, value);
    return this.gossip().publish(this.topic(kind, subnet), ssz);
  }

  private topic(kind: GossipKind, subnet: number): GossipTopic {
    if (kind === "attestation") return attestationTopic(this.forkDigest, subnet);
    return kind === "block" ? blockTopic(this.forkDigest) : aggregationTopic(this.forkDigest);
  }

  private allTopicNames(): string[] {
    const topics = [blockTopic(this.forkDigest), aggregationTopic(this.forkDigest)];
    for (let subnet = 0; subnet < this.subnetCount; subnet++) topics.push(attestationTopic(this.forkDigest, subnet));
    return topics.map(gossipTopicName);
  }

  private checkSubnet(subnet: number): number {
    if (!Number.isSafeInteger(subnet) || subnet < 0 || subnet >= this.subnetCount) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `subnet ${subnet} outside [0, ${this.subnetCount})`);
    }
    return subnet;
  }

  private async openStream(peer: string, protocol: string, signal: AbortSignal) {
    const id = parsePeerId(peer);
    if (id === null) throw new NetworkError(NetworkErrorCode.DIAL_FAILED, `invalid peer id ${peer}`);
    return this.libp2p().dialProtocol(id, protocol, { signal });
  }

  private countConnected(node: Libp2p<Services>, peer: PeerId): void {
    const direction: Direction = node.getConnections(peer)[0]?.direction ?? "outbound";
    this.counters.labelled.values.peerConnections[direction].success++;
    if (this.peerDirections.size < MAX_TRACKED_PEERS) this.peerDirections.set(peer.toString(), direction);
  }

  private countDisconnected(peer: string): void {
    const direction = this.peerDirections.get(peer) ?? "outbound";
    this.peerDirections.delete(peer);
    const reason = this.hangingUp.delete(peer) ? "local_close" : "remote_close";
    this.counters.labelled.values.peerDisconnections[direction][reason]++;
  }

  private emit(listeners: Set<PeerListener>, peer: PeerId): void {
    const id = peer.toString();
    for (const listener of listeners) {
      try {
        listener(id);
      } catch {
        // A listener's bug must not break event delivery to the others.
      }
    }
  }

  private libp2p(): Libp2p<Services> {
    if (this.node === undefined) throw new NetworkError(NetworkErrorCode.NOT_STARTED, "network host is not started");
    return this.node;
  }

  private gossip(): GossipRouter {
    if (this.router === undefined) throw new NetworkError(NetworkErrorCode.NOT_STARTED, "network host is not started");
    return this.router;
  }
}

/** The implementation has getScore; the published service interface does not declare it. */
function gossipsubScore(pubsub: GossipSub, peer: string): number {
  return (pubsub as GossipSub & { getScore?: (peer: string) => number }).getScore?.(peer) ?? 0;
}

function parsePeerId(peer: string): PeerId | null {
  try {
    return peerIdFromString(peer);
  } catch {
    return null;
  }
}

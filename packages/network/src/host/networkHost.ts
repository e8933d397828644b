// NetworkHost owns the libp2p node: TCP + Noise + Yamux, identify, ping, gossipsub and the three
// req/resp protocols. The node talks to it with plain values (peer ids as strings, multiaddrs as
// strings, SSZ values); no libp2p type crosses this class's public surface.
import { getHeapStatistics } from "node:v8";
import type { SignedAggregatedAttestation, SignedAttestation, SignedBlock, Status } from "@metronome/chain";
import { multiaddr } from "@multiformats/multiaddr";
import { errorMessage, NetworkError, NetworkErrorCode } from "../errors.ts";
import { type GossipValueByKind, serializeGossipValue } from "../gossip/codec.ts";
import { capDeliveryRecordLifetime } from "../gossip/deliveryRecords.ts";
import { capFastIdCacheLifetime } from "../gossip/fastIdCache.ts";
import { GOSSIP_HEARTBEAT_MS, GOSSIP_SEEN_TTL_MS, gossipCopyWindowMs } from "../gossip/options.ts";
import { OutboundBacklogGuard } from "../gossip/outboundBacklog.ts";
import { type GossipHandler, GossipRouter } from "../gossip/router.ts";
import { type GossipAdmit, installRpcAdmission, type RpcAdmission } from "../gossip/rpcAdmission.ts";
import { aggregationTopic, attestationTopic, blockTopic, type GossipKind } from "../gossip/topics.ts";
import type { INetwork, NetworkMemoryStats, PeerListener, ScoreDisconnectListener } from "../network.ts";
import { ReqRespClient } from "../reqresp/client.ts";
import { REQRESP_METHODS, type ReqRespMethod, ReqRespProtocol } from "../reqresp/protocols.ts";
import { type ReqRespHandlers, ReqRespServer } from "../reqresp/server.ts";
import type { ResponseChunk } from "../reqresp/wire.ts";
import { BootnodeDialer, DEFAULT_REDIAL } from "./bootnodes.ts";
import { ConnectionTracker } from "./connectionTracker.ts";
import { type NetworkHostOptions, STREAMS_PER_PROTOCOL } from "./hostOptions.ts";
import { gossipsubScore, HostReader, parsePeerId } from "./hostReader.ts";
import { peerIdFromSeed, privateKeyFromSeed } from "./identity.ts";
import { createHostLibp2p } from "./libp2pNode.ts";
import { PeerDefence } from "./peerDefence.ts";
import { PeerListeners } from "./peerListeners.ts";
import type { PeerAction } from "./peerScores.ts";
import { sendWindowUpdatesAtHalfWindow } from "./yamuxWindowUpdates.ts";

type GossipHandlers = { [K in GossipKind]?: GossipHandler<K> };

export { INBOUND_UPGRADE_TIMEOUT_MS, MAX_INBOUND_PENDING, type NetworkHostOptions } from "./hostOptions.ts";

export class NetworkHost extends HostReader implements INetwork {
  private readonly server: ReqRespServer;
  private readonly client: ReqRespClient;
  private readonly gossipHandlers: GossipHandlers = {};
  private readonly listeners = new PeerListeners();
  private readonly connections = new ConnectionTracker(this.counters);
  /** Whether gossipsub's delivery records got the copy window's lifetime (see deliveryRecords.ts). */
  deliveryRecordsCapped = false;
  /** Whether gossipsub's fast-id cache got the copy window's lifetime (see fastIdCache.ts). */
  fastIdCacheCapped = false;
  /** Whether yamux streams send window updates at half the window, not after every frame. */
  yamuxUpdatesAtHalfWindow = false;
  /** Refuses gossip before it is decoded when the node could not take it (rpcAdmission.ts). */
  private rpcAdmission: RpcAdmission | null = null;
  private gossipAdmit: GossipAdmit | null = null;
  private bootnodes: BootnodeDialer | undefined;
  private outboundBacklog: OutboundBacklogGuard | undefined;

  constructor(options: NetworkHostOptions) {
    super(options);
    const timeoutMs = options.reqResp?.timeoutMs;
    const onPeerAction = (peer: string, action: PeerAction, detail: string | undefined, endedEarly: boolean) => {
      if (endedEarly && this.defence !== undefined) this.defence.penaliseUnlessDisconnected(peer, action, detail);
      else this.penalise(peer, action, detail);
    };
    this.server = new ReqRespServer({
      counters: this.counters,
      timeoutMs,
      rateLimits: options.reqResp?.rateLimits,
      onPeerAction: (peer, action, endedEarly) => onPeerAction(peer, action, undefined, endedEarly),
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

  async start(): Promise<void> {
    if (this.node !== undefined) return;
    const privateKey = await privateKeyFromSeed(this.options.identitySeed);
    this.yamuxUpdatesAtHalfWindow = sendWindowUpdatesAtHalfWindow();
    const node = await createHostLibp2p(this.options, {
      privateKey,
      payloads: this.payloads,
      counters: this.counters,
      forkDigest: this.forkDigest,
      subnetCount: this.subnetCount,
      scores: this.scores,
      allowedTopics: this.allTopicNames(),
    });
    node.addEventListener("peer:connect", (event) => {
      const peer = event.detail.toString();
      this.connections.connected(peer, node.getConnections(event.detail)[0]?.direction ?? "outbound");
      this.listeners.connected(peer);
    });
    node.addEventListener("peer:disconnect", (event) => {
      this.connections.disconnected(event.detail.toString());
      this.defence?.peerDisconnected(event.detail.toString());
      // Rate-limit buckets outlive the connection on purpose: reconnecting must not refill them.
      this.bootnodes?.onPeerDisconnected(event.detail.toString());
      this.listeners.disconnected(event.detail.toString());
    });
    for (const method of REQRESP_METHODS) {
      await node.handle(
        ReqRespProtocol[method],
        (stream, connection) => this.server.handle(method, stream, connection.remotePeer.toString()),
        { maxInboundStreams: STREAMS_PER_PROTOCOL, maxOutboundStreams: STREAMS_PER_PROTOCOL },
      );
    }
    this.node = node;
    const copyWindowMs = gossipCopyWindowMs(
      this.options.gossipHeartbeatMs ?? GOSSIP_HEARTBEAT_MS,
      this.options.gossipSeenTtlMs ?? GOSSIP_SEEN_TTL_MS,
    );
    this.deliveryRecordsCapped = capDeliveryRecordLifetime(node.services.pubsub, copyWindowMs);
    this.fastIdCacheCapped = capFastIdCacheLifetime(node.services.pubsub, copyWindowMs);
    this.rpcAdmission = installRpcAdmission(node.services.pubsub);
    if (this.rpcAdmission !== null) this.rpcAdmission.admit = this.gossipAdmit;
    this.router = new GossipRouter(node.services.pubsub, {
      forkDigest: this.forkDigest,
      counters: this.counters,
      payloads: this.payloads,
      maxPendingValidations: this.options.maxPendingGossipValidations,
      attestationSubnetCount: this.subnetCount,
      penaliseUnwanted: (peer, kind) => this.penalise(peer, "unwanted_gossip", `${kind} the node cannot use`),
    });
    const pubsub = node.services.pubsub;
    this.defence = new PeerDefence({
      store: this.scores,
      peers: () => this.peers(),
      gossipScore: (peer) => gossipsubScore(pubsub, peer),
      disconnect: (peer) => this.disconnect(peer),
      enabled: this.options.peerScoreDisconnects ?? true,
      onDisconnect: (peer, reason, score, penalties) => this.listeners.scoreDisconnect(peer, reason, score, penalties),
    });
    this.defence.start();
    const outbound = this.options.gossipOutbound;
    this.outboundBacklog = new OutboundBacklogGuard(
      pubsub,
      (peer) => {
        this.counters.inc("gossip_outbound_lost_disconnects");
        void this.disconnect(peer);
      },
      outbound?.lostChecks,
    );
    this.outboundBacklog.start(outbound?.checkIntervalMs);
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
    this.outboundBacklog?.stop();
    this.outboundBacklog = undefined;
    this.router = undefined;
    this.node = undefined;
    await node.stop();
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
    this.connections.hangUp(peer);
    await this.node.hangUp(id).catch(() => {});
  }

  /** Registers a listener; returns the function that removes it. */
  onPeerConnected(listener: PeerListener): () => void {
    return this.listeners.onConnected(listener);
  }

  /** Registers a listener for peers cut off for their score; returns the function that removes it. */
  onPeerScoreDisconnect(listener: ScoreDisconnectListener): () => void {
    return this.listeners.onScoreDisconnect(listener);
  }

  onPeerDisconnected(listener: PeerListener): () => void {
    return this.listeners.onDisconnected(listener);
  }

  // ---- gossip ----

  /** The node's verdict on each decoded message of `kind` decides whether it propagates. */
  setGossipHandler<K extends GossipKind>(kind: K, handler: GossipHandler<K> | undefined): void {
    (this.gossipHandlers as Record<K, GossipHandler<K> | undefined>)[kind] = handler;
    this.router?.setHandler(kind, handler);
  }

  /**
   * Asked per gossip message as its RPC arrives, before it is hashed or decoded: false refuses it
   * (the network worker's boundary, GossipOutbox.admit). Null admits everything.
   */
  setGossipAdmission(admit: GossipAdmit | null): void {
    this.gossipAdmit = admit;
    if (this.rpcAdmission !== null) this.rpcAdmission.admit = admit;
  }

  /** Whether gossip can be refused before it is decoded (false if gossipsub's internals moved). */
  get gossipAdmissionInstalled(): boolean {
    return this.rpcAdmission !== null;
  }

  /** Nothing crosses a thread boundary here: a held message would cost as much as a handled one. */
  holdGossip(_kind: GossipKind, _peer: string, _ms: number): void {}

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

  memoryStats(): NetworkMemoryStats {
    const heap = getHeapStatistics();
    return {
      responseBudget: this.client.responseBudget.stats(),
      heap: {
        usedBytes: heap.used_heap_size,
        totalBytes: heap.total_heap_size,
        externalBytes: heap.external_memory,
        limitBytes: heap.heap_size_limit,
      },
      gossipOutbound: this.outboundBacklog?.watch.stats() ?? { bufferedBytes: 0, maxPeerBufferedBytes: 0 },
    };
  }

  /** Sends raw request bytes on `method`'s protocol and returns every chunk uninterpreted. */
  requestRaw(peer: string, method: ReqRespMethod, bytes: Uint8Array, maxChunks = 1024): Promise<ResponseChunk[]> {
    return this.client.requestRaw(peer, ReqRespProtocol[method], bytes, maxChunks);
  }

  // ---- peer scores ----

  /** Charges `peer` for a req/resp offence (the host's own req/resp reports these itself). */
  penalise(peer: string, action: PeerAction, detail?: string): void {
    if (this.defence !== undefined) this.defence.penalise(peer, action, detail);
    else this.scores.apply(peer, action, detail);
  }

  /** Runs one score check now (the host does it every second); for tests and tooling. */
  checkPeerScores(): void {
    this.defence?.check();
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

  private async openStream(peer: string, protocol: string, signal: AbortSignal) {
    const id = parsePeerId(peer);
    if (id === null) throw new NetworkError(NetworkErrorCode.DIAL_FAILED, `invalid peer id ${peer}`);
    return this.libp2p().dialProtocol(id, protocol, { signal });
  }
}

// The query side of a NetworkHost: its peers, topics, meshes, scores and counters, read without
// changing anything (NetworkHost extends it with the lifecycle and the commands). The state both
// need is here, protected.
import type { GossipSub } from "@libp2p/gossipsub";
import type { Libp2p, PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { ATTESTATION_COMMITTEE_COUNT } from "@metronome/chain";
import { NetworkError, NetworkErrorCode } from "../errors.ts";
import { DecompressedPayloads } from "../gossip/options.ts";
import type { GossipRouter } from "../gossip/router.ts";
import {
  aggregationTopic,
  attestationTopic,
  blockTopic,
  type GossipKind,
  type GossipTopic,
  gossipTopicName,
  normalizeForkDigest,
} from "../gossip/topics.ts";
import type { NetworkThreadHealth, PeerScoreSummary } from "../network.ts";
import { type GossipStatKind, type LabelledNetworkStats, NetworkCounters, type NetworkStats } from "../stats.ts";
import type { NetworkHostOptions } from "./hostOptions.ts";
import type { HostServices } from "./libp2pNode.ts";
import { emptyPeerDefenceStats, type PeerDefence } from "./peerDefence.ts";
import { PeerScoreStore } from "./peerScores.ts";

export class HostReader {
  readonly forkDigest: string;
  protected readonly options: NetworkHostOptions;
  protected readonly subnetCount: number;
  protected readonly counters = new NetworkCounters();
  protected readonly payloads = new DecompressedPayloads();
  protected readonly scores: PeerScoreStore;
  protected defence: PeerDefence | undefined;
  protected node: Libp2p<HostServices> | undefined;
  protected router: GossipRouter | undefined;

  constructor(options: NetworkHostOptions) {
    this.options = options;
    this.forkDigest = normalizeForkDigest(options.forkDigest);
    this.subnetCount = options.attestationSubnetCount ?? ATTESTATION_COMMITTEE_COUNT;
    if (!Number.isSafeInteger(this.subnetCount) || this.subnetCount < 1) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "attestationSubnetCount must be >= 1");
    }
    this.scores = new PeerScoreStore(options.scoreClock);
  }

  get isStarted(): boolean {
    return this.node !== undefined;
  }

  get peerId(): string {
    return this.libp2p().peerId.toString();
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

  /** Penalties, score disconnections by reason, bans, and the graylist counts. */
  peerScoreStats(): PeerScoreSummary {
    const defence = this.defence?.stats() ?? emptyPeerDefenceStats();
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

  boundaryStats(): null {
    return null;
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

  protected topic(kind: GossipKind, subnet: number): GossipTopic {
    if (kind === "attestation") return attestationTopic(this.forkDigest, subnet);
    return kind === "block" ? blockTopic(this.forkDigest) : aggregationTopic(this.forkDigest);
  }

  protected allTopicNames(): string[] {
    const topics = [blockTopic(this.forkDigest), aggregationTopic(this.forkDigest)];
    for (let subnet = 0; subnet < this.subnetCount; subnet++) topics.push(attestationTopic(this.forkDigest, subnet));
    return topics.map(gossipTopicName);
  }

  protected checkSubnet(subnet: number): number {
    if (!Number.isSafeInteger(subnet) || subnet < 0 || subnet >= this.subnetCount) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `subnet ${subnet} outside [0, ${this.subnetCount})`);
    }
    return subnet;
  }

  protected libp2p(): Libp2p<HostServices> {
    if (this.node === undefined) throw new NetworkError(NetworkErrorCode.NOT_STARTED, "network host is not started");
    return this.node;
  }

  protected gossip(): GossipRouter {
    if (this.router === undefined) throw new NetworkError(NetworkErrorCode.NOT_STARTED, "network host is not started");
    return this.router;
  }
}

/** The implementation has getScore; the published service interface does not declare it. */
export function gossipsubScore(pubsub: GossipSub, peer: string): number {
  return (pubsub as GossipSub & { getScore?: (peer: string) => number }).getScore?.(peer) ?? 0;
}

export function parsePeerId(peer: string): PeerId | null {
  try {
    return peerIdFromString(peer);
  } catch {
    return null;
  }
}

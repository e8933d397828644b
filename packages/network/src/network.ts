// INetwork: all the node sees of its network. NetworkHost implements it in the calling thread;
// NetworkWorker implements it by running a NetworkHost in a worker thread and caching what the
// node reads synchronously (peers, counters), so the node cannot tell them apart except by the
// thread its event loop has to share.
import type { SignedAggregatedAttestation, SignedAttestation, SignedBlock, Status } from "@metronome/chain";
import type { BoundaryStats } from "./boundary/boundaryStats.ts";
import type { GossipHandler } from "./gossip/router.ts";
import type { GossipKind } from "./gossip/topics.ts";
import type { PeerDefenceStats } from "./host/peerDefence.ts";
import type { PeerScoreStats, ScoreDisconnectReason } from "./host/peerScores.ts";
import type { ResponseBudgetStats } from "./reqresp/responseBudget.ts";
import type { ReqRespHandlers } from "./reqresp/server.ts";
import type { GossipStatKind, LabelledNetworkStats, NetworkStats } from "./stats.ts";

export type PeerListener = (peer: string) => void;
/** Told of each peer cut off for its score, with the reason and the score at the time. */
/** `penalties`: the req/resp penalties the peer took, e.g. "rate_limited x10" ("" for none). */
export type ScoreDisconnectListener = (
  peer: string,
  reason: ScoreDisconnectReason,
  score: number,
  penalties: string,
) => void;
/** What the host reports about peer scores (application store plus the graylist counts). */
export type PeerScoreSummary = PeerScoreStats & PeerDefenceStats;

/** Which thread runs libp2p, and (for a worker) how often it was restarted and whether it is down. */
export type NetworkThreadHealth = {
  thread: "main" | "worker";
  /** Times the network worker was restarted after it died (0 in the main thread). */
  restarts: number;
  /** Why the network is down right now (the worker died and is being restarted), else null. */
  down: string | null;
};

/** What the network holds in memory: its response budget and its thread's V8 heap. */
export type NetworkMemoryStats = {
  /** Response bytes reserved by outstanding outbound requests, and the budget they share. */
  responseBudget: ResponseBudgetStats;
  /**
   * The V8 heap of the thread that runs libp2p: the network worker's own isolate (a second heap
   * beside the main thread's, which prom-client's nodejs_* series report), or the main thread's.
   * limitBytes: the heap size past which V8 ends the thread out of memory.
   */
  heap: { usedBytes: number; totalBytes: number; externalBytes: number; limitBytes: number };
  /** Gossip bytes written to peers and not yet read by them: all peers, and the most behind one. */
  gossipOutbound: { bufferedBytes: number; maxPeerBufferedBytes: number };
};

export interface INetwork {
  readonly forkDigest: string;
  /** Our libp2p peer id (throws before start). */
  readonly peerId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  multiaddrs(): string[];
  peers(): string[];
  peerCount(): number;
  /** Distinct peers in our mesh over every topic this node can subscribe to. */
  meshPeerCount(): number;
  onPeerConnected(listener: PeerListener): () => void;
  onPeerDisconnected(listener: PeerListener): () => void;
  onPeerScoreDisconnect(listener: ScoreDisconnectListener): () => void;

  /** The node's verdict on each decoded message of `kind` decides whether it propagates. */
  setGossipHandler<K extends GossipKind>(kind: K, handler: GossipHandler<K> | undefined): void;
  /**
   * The node's queue lane for `peer`'s messages of `kind` is overflowing: for the next `ms` the
   * network ignores them before they cross to the driver thread (counted as boundary drops,
   * `peer_held`). A no-op where the network runs on the driver thread: nothing crosses there.
   */
  holdGossip(kind: GossipKind, peer: string, ms: number): void;
  /** Subscribes to the block and aggregation topics and to the given attestation subnets. */
  subscribe(attestationSubnets?: readonly number[]): void;
  /** Each publish resolves to the number of peers the message was sent to. */
  publishBlock(block: SignedBlock): Promise<number>;
  publishAttestation(subnet: number, attestation: SignedAttestation): Promise<number>;
  publishAggregate(aggregate: SignedAggregatedAttestation): Promise<number>;

  setReqRespHandlers(handlers: Partial<ReqRespHandlers>): void;
  /** Exchanges Status with `peer`, sending ours from the registered `status` handler. */
  status(peer: string): Promise<Status>;
  blocksByRoot(peer: string, roots: readonly Uint8Array[]): Promise<SignedBlock[]>;
  blocksByRange(peer: string, startSlot: number, count: number): Promise<SignedBlock[]>;

  stats(): NetworkStats;
  /** Gossip verdicts per topic kind, req/resp results per protocol and direction, peer events. */
  labelledStats(): LabelledNetworkStats;
  /** Sizes of the gossip messages received since the last call (sampled: bounded per kind). */
  drainGossipSizes(): Record<GossipStatKind, number[]>;
  peerScoreStats(): PeerScoreSummary;
  /** Gossip scores of connected peers sampled since the last call (for a histogram). */
  drainPeerScoreSamples(): number[];
  threadHealth(): NetworkThreadHealth;
  /** The response budget and the network thread's heap (at most STATS_PUSH_MS old from a worker). */
  memoryStats(): NetworkMemoryStats;
  /** The worker's gossip boundary: drops by reason, verdict timeouts (null on the main thread). */
  boundaryStats(): BoundaryStats | null;
}

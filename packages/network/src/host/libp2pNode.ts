// The libp2p node a NetworkHost runs: TCP + Noise + Yamux, identify, ping and gossipsub with our
// options, the connection limits, and a gater that refuses banned peers both ways.
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { GossipSub } from "@libp2p/gossipsub";
import { gossipsub } from "@libp2p/gossipsub";
import { type Identify, identify } from "@libp2p/identify";
import type { Libp2p, PrivateKey } from "@libp2p/interface";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { createLibp2p } from "libp2p";
import { type DecompressedPayloads, gossipsubOptions } from "../gossip/options.ts";
import type { NetworkCounters } from "../stats.ts";
import {
  connectionMonitorOptions,
  DEFAULT_INBOUND_CONNECTION_THRESHOLD,
  DEFAULT_LISTEN,
  DEFAULT_SLOT_DURATION_MS,
  INBOUND_UPGRADE_TIMEOUT_MS,
  MAX_INBOUND_PENDING,
  type NetworkHostOptions,
} from "./hostOptions.ts";
import type { PeerScoreStore } from "./peerScores.ts";

export type HostServices = { identify: Identify; ping: Ping; pubsub: GossipSub };

export type HostLibp2pDeps = {
  privateKey: PrivateKey;
  payloads: DecompressedPayloads;
  counters: NetworkCounters;
  forkDigest: string;
  subnetCount: number;
  scores: PeerScoreStore;
  allowedTopics: readonly string[];
};

export function createHostLibp2p(options: NetworkHostOptions, deps: HostLibp2pDeps): Promise<Libp2p<HostServices>> {
  return createLibp2p<HostServices>({
    privateKey: deps.privateKey,
    addresses: {
      listen: [...(options.listenAddresses ?? DEFAULT_LISTEN)],
      announce: [...(options.announceAddresses ?? [])],
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: options.maxPeers ?? 100,
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
      maxIncomingPendingConnections: options.maxInboundPendingConnections ?? MAX_INBOUND_PENDING,
      inboundUpgradeTimeout: options.inboundUpgradeTimeoutMs ?? INBOUND_UPGRADE_TIMEOUT_MS,
    },
    connectionMonitor: connectionMonitorOptions(),
    // A peer disconnected for its score is refused both ways until its ban expires.
    connectionGater: {
      denyDialPeer: (peer) => deps.scores.refuses(peer.toString()),
      denyInboundEncryptedConnection: (peer) => deps.scores.refuses(peer.toString()),
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(
        gossipsubOptions({
          payloads: deps.payloads,
          counters: deps.counters,
          forkDigest: deps.forkDigest,
          attestationSubnetCount: deps.subnetCount,
          slotDurationMs: options.slotDurationMs ?? DEFAULT_SLOT_DURATION_MS,
          appScore: (peer) => deps.scores.score(peer),
          allowedTopics: [...deps.allowedTopics],
          heartbeatMs: options.gossipHeartbeatMs,
          seenTtlMs: options.gossipSeenTtlMs,
          meshDegree: options.gossipMeshDegree,
          maxOutboundBufferBytes: options.gossipOutbound?.maxBufferBytes,
        }),
      ),
    },
  });
}

// @metronome/network: libp2p transport, gossip and req/resp for a Metronome node.

export {
  boundaryDrops,
  DEFAULT_CHANNEL_LIMITS,
  MAX_BATCH_BYTES,
  MAX_BATCH_ITEMS,
  VERDICT_DEADLINE_MS,
} from "./boundary/gossipOutbox.ts";
export { HoldTable, holdKey } from "./boundary/holdTable.ts";
export type { BoundaryStats } from "./boundary/messages.ts";
export { MAX_FRAME_CHUNK_SIZE, MAX_PAYLOAD_SIZE } from "./encoding/limits.ts";
export { compressBlock, uncompressBlock } from "./encoding/snappyBlock.ts";
export { decodeSnappyFrames, encodeSnappyFrames, SnappyFramesDecoder } from "./encoding/snappyFrames.ts";
export { decodeVarint, encodeVarint } from "./encoding/varint.ts";
export { isNetworkError, NetworkError, NetworkErrorCode } from "./errors.ts";
export type { GossipValueByKind } from "./gossip/codec.ts";
export { computeMessageId, gossipMessageId, MESSAGE_ID_LENGTH } from "./gossip/messageId.ts";
export {
  GOSSIP_D,
  GOSSIP_D_HIGH,
  GOSSIP_D_LAZY,
  GOSSIP_D_LOW,
  GOSSIP_HEARTBEAT_MS,
  GOSSIP_MCACHE_GOSSIP,
  GOSSIP_MCACHE_LENGTH,
  GOSSIP_SEEN_TTL_MS,
  gossipSeenTtlMs,
  type MeshDegrees,
  meshDegrees,
} from "./gossip/options.ts";
export type { GossipHandler, GossipMessageInfo, GossipVerdict } from "./gossip/router.ts";
export {
  GOSSIP_THRESHOLD,
  GRAYLIST_THRESHOLD,
  IP_COLOCATION_WHITELIST,
  PEER_SCORE_THRESHOLDS,
  PUBLISH_THRESHOLD,
} from "./gossip/scoring.ts";
export { GOSSIP_MAX_COMPRESSED_BYTES, GOSSIP_MAX_SSZ_BYTES } from "./gossip/topicLimits.ts";
export {
  aggregationTopic,
  attestationTopic,
  blockTopic,
  GossipKind,
  type GossipTopic,
  gossipTopicName,
  normalizeForkDigest,
  parseGossipTopic,
} from "./gossip/topics.ts";
export { DEFAULT_REDIAL, type RedialOptions } from "./host/bootnodes.ts";
export { DEFERRED_PENALTY_OUTCOMES } from "./host/deferredPenalties.ts";
export { IDENTITY_SEED_LENGTH, peerIdFromSeed } from "./host/identity.ts";
export { NetworkHost, type NetworkHostOptions } from "./host/networkHost.ts";
export type { PeerDefenceStats } from "./host/peerDefence.ts";
export {
  BAN_COOLDOWN_MS,
  DISCONNECT_APP_SCORE,
  PEER_ACTION_PENALTY,
  PEER_ACTIONS,
  type PeerAction,
  type PeerScoreStats,
  SCORE_DISCONNECT_REASONS,
} from "./host/peerScores.ts";
export type {
  INetwork,
  NetworkMemoryStats,
  NetworkThreadHealth,
  PeerListener,
  PeerScoreSummary,
  ScoreDisconnectListener,
} from "./network.ts";
export {
  MAX_ERROR_MESSAGE_SIZE,
  RESPONSE_TIMEOUT_MS,
  type ReqRespMethod,
  ReqRespProtocol,
  ResultCode,
} from "./reqresp/protocols.ts";
export type { BucketConfig } from "./reqresp/rateLimiter.ts";
export { DEFAULT_RATE_LIMITS, type RateLimits, type ReqRespHandlers } from "./reqresp/server.ts";
export type { ResponseChunk } from "./reqresp/wire.ts";
export { encodeErrorChunk, encodeRequest, encodeResponseChunk } from "./reqresp/wire.ts";
export {
  COUNTER_NAMES,
  type CounterName,
  GOSSIP_STAT_KINDS,
  GOSSIP_VERDICTS,
  GossipSizeSamples,
  LabelledNetworkCounters,
  type LabelledNetworkStats,
  MAX_SIZE_SAMPLES,
  type NetworkStats,
  REQRESP_OUTCOMES,
  REQRESP_STAT_METHODS,
} from "./stats.ts";
export {
  NETWORK_WORKER_MAX_OLD_GENERATION_MB,
  NETWORK_WORKER_MAX_YOUNG_GENERATION_MB,
  NetworkWorker,
  type NetworkWorkerLog,
  type NetworkWorkerOptions,
  RESTART_BACKOFF_INITIAL_MS,
  RESTART_BACKOFF_MAX_MS,
} from "./worker/networkWorker.ts";
export { STATS_PUSH_MS } from "./worker/workerInit.ts";

// Gossipsub parameters (PROTOCOL.md section 5) and the message-id hooks. The id function and the
// validator both need the decompressed payload; a WeakMap keyed by the message's data buffer lets
// the validator reuse the id function's work, and it empties itself as messages are collected.
import { createHash } from "node:crypto";
import { type GossipsubOpts, StrictNoSign } from "@libp2p/gossipsub";
import { MAX_PAYLOAD_SIZE, maxCompressedLength } from "../encoding/limits.ts";
import type { NetworkCounters } from "../stats.ts";
import { type Decompressed, decompressGossipPayload } from "./codec.ts";
import { gossipMessageId } from "./messageId.ts";
import { GOSSIP_MAX_OUTBOUND_BUFFER_BYTES } from "./outboundBacklog.ts";
import { PEER_SCORE_THRESHOLDS, peerScoreParams } from "./scoring.ts";
import { checkGossipEnvelope, GOSSIP_MAX_COMPRESSED_BYTES, GOSSIP_MAX_SSZ_BYTES } from "./topicLimits.ts";
import { parseGossipTopic } from "./topics.ts";

export const GOSSIP_D = 8;
export const GOSSIP_D_LOW = 6;
export const GOSSIP_D_HIGH = 12;
export const GOSSIP_D_LAZY = 6;
/** gossipsub's default: outbound peers a mesh keeps; must stay below D_low and at most D/2. */
const GOSSIP_D_OUT = 2;

export type MeshDegrees = { D: number; Dlo: number; Dhi: number; Dlazy: number; Dout: number };

/**
 * The mesh degrees for a target degree `d`: PROTOCOL.md's 8/6/12/6 at d = 8, and the same ratios
 * below it, so a test can build a sparse mesh in which most votes travel more than one hop.
 */
export function meshDegrees(d: number = GOSSIP_D): MeshDegrees {
  if (!Number.isSafeInteger(d) || d < 1) throw new RangeError(`mesh degree must be an integer >= 1, got ${d}`);
  if (d === GOSSIP_D) {
    return { D: GOSSIP_D, Dlo: GOSSIP_D_LOW, Dhi: GOSSIP_D_HIGH, Dlazy: GOSSIP_D_LAZY, Dout: GOSSIP_D_OUT };
  }
  const Dlo = Math.max(1, Math.round((d * GOSSIP_D_LOW) / GOSSIP_D));
  const Dhi = Math.max(d, Math.round((d * GOSSIP_D_HIGH) / GOSSIP_D));
  const Dlazy = Math.max(1, Math.round((d * GOSSIP_D_LAZY) / GOSSIP_D));
  // gossipsub requires Dout < Dlo and Dout <= D / 2.
  const Dout = Math.max(0, Math.min(GOSSIP_D_OUT, Dlo - 1, Math.floor(d / 2)));
  return { D: d, Dlo, Dhi, Dlazy, Dout };
}
export const GOSSIP_HEARTBEAT_MS = 700;
/** leanSpec: heartbeats of full messages kept for IWANT, and of them gossiped in IHAVE. */
export const GOSSIP_MCACHE_LENGTH = 6;
export const GOSSIP_MCACHE_GOSSIP = 3;
/**
 * leanSpec: seen-message ids expire after SECONDS_PER_SLOT * JUSTIFICATION_LOOKBACK_SLOTS * 2
 * (24 s with 4 s slots), not gossipsub's generic 2 minutes. A vote older than that is useless, and
 * under a flood every seen id costs memory for as long as it is kept.
 */
export function gossipSeenTtlMs(slotDurationMs: number): number {
  return slotDurationMs * 3 * 2;
}
export const GOSSIP_SEEN_TTL_MS = gossipSeenTtlMs(4_000);

/**
 * The shortest copy window: longer than the node takes to give its verdict on a message
 * (VERDICT_DEADLINE_MS, 3 s), so a record never expires while its message is still being validated.
 */
export const GOSSIP_MIN_COPY_WINDOW_MS = 4_000;

/**
 * How long gossipsub keeps what it needs only for copies of a message sent by other peers: the
 * message's peer-score delivery record (first delivery; whose copies of a rejected message are
 * penalised) and its fast id (a hash of the raw bytes, so a copy is dropped before decompression).
 * Honest copies come while the message is validated and while peers still hold it in their message
 * caches: GOSSIP_MCACHE_LENGTH heartbeats (4.2 s) from when they got it; twice that covers both.
 * A later copy is still dropped as a duplicate, by the seen cache, which keeps ids for the full seen
 * TTL: it is decompressed and hashed again first, and its sender is not penalised if the message was
 * rejected. Kept for the 24 s seen TTL instead, the records (each with its own Set of peers) and fast
 * ids were ~75 of the network worker's ~110 MiB live heap under a 4,800 msgs/s valid flood
 * (docs/performance.md). Never longer than the seen TTL.
 */
export function gossipCopyWindowMs(heartbeatMs: number, seenTtlMs: number): number {
  return Math.min(seenTtlMs, Math.max(GOSSIP_MIN_COPY_WINDOW_MS, 2 * GOSSIP_MCACHE_LENGTH * heartbeatMs));
}

/** One RPC frame may carry a maximal compressed payload plus protobuf framing. */
const MAX_RPC_FRAME_BYTES = maxCompressedLength(MAX_PAYLOAD_SIZE) + 64 * 1024;

export class DecompressedPayloads {
  private readonly results = new WeakMap<Uint8Array, Decompressed>();

  /** Decompressions performed (a test's witness that a payload was, or was not, decompressed). */
  decompressions = 0;

  get(raw: Uint8Array, maxLength = MAX_PAYLOAD_SIZE): Decompressed {
    const cached = this.results.get(raw);
    if (cached !== undefined) return cached;
    this.decompressions++;
    const result = decompressGossipPayload(raw, maxLength);
    this.results.set(raw, result);
    return result;
  }

  /** Returns the result and drops it: the validator is its last reader, while gossipsub's message
   * cache may keep the raw buffer (and so the WeakMap entry) alive for several heartbeats. */
  take(raw: Uint8Array, maxLength = MAX_PAYLOAD_SIZE): Decompressed {
    const result = this.get(raw, maxLength);
    this.results.delete(raw);
    return result;
  }

  forget(raw: Uint8Array): void {
    this.results.delete(raw);
  }
}

/**
 * fastMsgIdFn's answer for a payload over its topic's compressed bound: not hashed, and never
 * cached, because the inbound transform refuses the message before gossipsub caches any id.
 */
const OVERSIZED_FAST_ID = "oversized";

export type GossipsubParams = {
  payloads: DecompressedPayloads;
  counters: NetworkCounters;
  forkDigest: string;
  attestationSubnetCount: number;
  /** Slot length: time-in-mesh credit and delivery decay are counted in slots. */
  slotDurationMs: number;
  /** The application-level score of a peer (peerScores.ts), fed to gossipsub's P5. */
  appScore: (peer: string) => number;
  /** Only these topics are tracked for peers' subscriptions and messages. */
  allowedTopics: readonly string[];
  heartbeatMs?: number;
  /** Default GOSSIP_SEEN_TTL_MS (4 s slots); see gossipSeenTtlMs. */
  seenTtlMs?: number;
  /** Target mesh degree D (default GOSSIP_D); the other degrees follow it (meshDegrees). */
  meshDegree?: number;
  /** Default GOSSIP_MAX_OUTBOUND_BUFFER_BYTES. */
  maxOutboundBufferBytes?: number;
};

export function gossipsubOptions(params: GossipsubParams): Partial<GossipsubOpts> {
  const { payloads } = params;
  return {
    globalSignaturePolicy: StrictNoSign,
    ...meshDegrees(params.meshDegree),
    scoreParams: peerScoreParams({
      forkDigest: params.forkDigest,
      attestationSubnetCount: params.attestationSubnetCount,
      slotDurationMs: params.slotDurationMs,
      appScore: params.appScore,
    }),
    scoreThresholds: PEER_SCORE_THRESHOLDS,
    heartbeatInterval: params.heartbeatMs ?? GOSSIP_HEARTBEAT_MS,
    mcacheLength: GOSSIP_MCACHE_LENGTH,
    mcacheGossip: GOSSIP_MCACHE_GOSSIP,
    seenTTL: params.seenTtlMs ?? GOSSIP_SEEN_TTL_MS,
    fallbackToFloodsub: false,
    emitSelf: false,
    doPX: false,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    allowedTopics: [...params.allowedTopics],
    maxInboundDataLength: MAX_RPC_FRAME_BYTES,
    // A peer that stops reading costs at most this much of what we forward (outboundBacklog.ts).
    maxOutboundBufferSize: params.maxOutboundBufferBytes ?? GOSSIP_MAX_OUTBOUND_BUFFER_BYTES,
    // Runs before the message id is computed: the per-topic byte bounds, read from the raw length
    // and the snappy preamble only. A throw makes gossipsub reject the message, which costs the
    // sender P4 (invalid message) score.
    dataTransform: {
      inboundTransform: (topic, data) => {
        const kind = parseGossipTopic(topic)?.kind;
        const failure = kind === undefined ? null : checkGossipEnvelope(kind, data);
        if (kind !== undefined && failure !== null) {
          // Counted as the router counts a message it rejects, so the verdict series stay whole.
          params.counters.inc(`gossip_received_${kind}`);
          params.counters.gossipSizes.record(kind, data.length);
          params.counters.inc("gossip_rejected_too_large");
          params.counters.labelled.gossipDecodeFailure(kind, "too_large");
          params.counters.labelled.gossipVerdict(kind, "reject");
          throw new Error(`gossip ${kind} payload refused before decompression: ${failure}`);
        }
        return data;
      },
      outboundTransform: (_topic, data) => data,
    },
    msgIdFn: (msg) => {
      const kind = parseGossipTopic(msg.topic)?.kind;
      const decompressed = payloads.get(msg.data, kind === undefined ? MAX_PAYLOAD_SIZE : GOSSIP_MAX_SSZ_BYTES[kind]);
      return gossipMessageId(msg.topic, msg.data, decompressed.ok ? decompressed.data : null);
    },
    // Duplicates are recognised from the raw bytes, before any decompression; a payload over its
    // topic's bound is not even hashed.
    fastMsgIdFn: (rpcMsg) => {
      const data = rpcMsg.data ?? new Uint8Array(0);
      const kind = parseGossipTopic(rpcMsg.topic)?.kind;
      if (kind !== undefined && data.length > GOSSIP_MAX_COMPRESSED_BYTES[kind]) return OVERSIZED_FAST_ID;
      return createHash("sha256").update(rpcMsg.topic).update("\0").update(data).digest("base64");
    },
  };
}

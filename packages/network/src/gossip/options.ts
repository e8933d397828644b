// Gossipsub parameters (PROTOCOL.md section 5) and the message-id hooks. The id function and the
// validator both need the decompressed payload; a WeakMap keyed by the message's data buffer lets
// the validator reuse the id function's work, and it empties itself as messages are collected.
import { createHash } from "node:crypto";
import { type GossipsubOpts, StrictNoSign } from "@libp2p/gossipsub";
import { MAX_PAYLOAD_SIZE, maxCompressedLength } from "../encoding/limits.ts";
import { type Decompressed, decompressGossipPayload } from "./codec.ts";
import { gossipMessageId } from "./messageId.ts";

export const GOSSIP_D = 8;
export const GOSSIP_D_LOW = 6;
export const GOSSIP_D_HIGH = 12;
export const GOSSIP_D_LAZY = 6;
/** gossipsub's default: outbound peers a mesh keeps; must stay below D_low and at most D/2. */
const GOSSIP_D_OUT = 2;

/**
 * Peer addresses exempt from gossipsub's IP-colocation penalty (P6). P6 punishes every peer once
 * more than 10 share one address: score (n - 10)^2 * -5. Peers on loopback all share 127.0.0.1 by
 * construction (a local devnet, the flood tool, the tests), and the penalty there is not a Sybil
 * signal but an artefact: at 11 peers every score is negative, so every mesh stays empty and
 * nothing is forwarded; at 15 peers (a 16-node devnet) every peer sits below the graylist
 * threshold and all its gossip is dropped. Real hosts never reach each other over loopback.
 */
export const IP_COLOCATION_WHITELIST: readonly string[] = ["127.0.0.1", "::1"];

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

/** One RPC frame may carry a maximal compressed payload plus protobuf framing. */
const MAX_RPC_FRAME_BYTES = maxCompressedLength(MAX_PAYLOAD_SIZE) + 64 * 1024;

export class DecompressedPayloads {
  private readonly results = new WeakMap<Uint8Array, Decompressed>();

  get(raw: Uint8Array): Decompressed {
    const cached = this.results.get(raw);
    if (cached !== undefined) return cached;
    const result = decompressGossipPayload(raw);
    this.results.set(raw, result);
    return result;
  }

  /** Returns the result and drops it: the validator is its last reader, while gossipsub's message
   * cache may keep the raw buffer (and so the WeakMap entry) alive for several heartbeats. */
  take(raw: Uint8Array): Decompressed {
    const result = this.get(raw);
    this.results.delete(raw);
    return result;
  }

  forget(raw: Uint8Array): void {
    this.results.delete(raw);
  }
}

export type GossipsubParams = {
  payloads: DecompressedPayloads;
  /** Only these topics are tracked for peers' subscriptions and messages. */
  allowedTopics: readonly string[];
  heartbeatMs?: number;
  /** Default GOSSIP_SEEN_TTL_MS (4 s slots); see gossipSeenTtlMs. */
  seenTtlMs?: number;
  /** Target mesh degree D (default GOSSIP_D); the other degrees follow it (meshDegrees). */
  meshDegree?: number;
};

export function gossipsubOptions(params: GossipsubParams): Partial<GossipsubOpts> {
  const { payloads } = params;
  return {
    globalSignaturePolicy: StrictNoSign,
    ...meshDegrees(params.meshDegree),
    scoreParams: { IPColocationFactorWhitelist: new Set(IP_COLOCATION_WHITELIST) },
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
    msgIdFn: (msg) => {
      const decompressed = payloads.get(msg.data);
      return gossipMessageId(msg.topic, msg.data, decompressed.ok ? decompressed.data : null);
    },
    // Duplicates are recognised from the raw bytes, before any decompression.
    fastMsgIdFn: (rpcMsg) =>
      createHash("sha256")
        .update(rpcMsg.topic)
        .update("\0")
        .update(rpcMsg.data ?? new Uint8Array(0))
        .digest("base64"),
  };
}

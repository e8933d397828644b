// Gossip topic names (PROTOCOL.md section 5): /leanconsensus/<fork_digest>/<name>/ssz_snappy.
import { NetworkError, NetworkErrorCode } from "../errors.ts";

export const TOPIC_PREFIX = "leanconsensus";
export const TOPIC_ENCODING = "ssz_snappy";

export const GossipKind = {
  block: "block",
  attestation: "attestation",
  aggregation: "aggregation",
} as const;
export type GossipKind = (typeof GossipKind)[keyof typeof GossipKind];

export type GossipTopic =
  | { kind: "block"; forkDigest: string }
  | { kind: "attestation"; forkDigest: string; subnet: number }
  | { kind: "aggregation"; forkDigest: string };

const FORK_DIGEST_PATTERN = /^[0-9a-f]{8}$/;
const SUBNET_PATTERN = /^(0|[1-9][0-9]{0,5})$/;
const ATTESTATION_PREFIX = "attestation_";

/** Accepts 4 bytes or hex (with or without 0x, any case); returns 8 lowercase hex characters. */
export function normalizeForkDigest(forkDigest: string | Uint8Array): string {
  const hex =
    typeof forkDigest === "string"
      ? forkDigest.toLowerCase().replace(/^0x/, "")
      : Buffer.from(forkDigest.buffer, forkDigest.byteOffset, forkDigest.byteLength).toString("hex");
  if (!FORK_DIGEST_PATTERN.test(hex)) {
    throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `fork digest must be 4 bytes, got "${hex}"`);
  }
  return hex;
}

export function gossipTopicName(topic: GossipTopic): string {
  const name = topic.kind === "attestation" ? `${ATTESTATION_PREFIX}${topic.subnet}` : topic.kind;
  return `/${TOPIC_PREFIX}/${topic.forkDigest}/${name}/${TOPIC_ENCODING}`;
}

export function blockTopic(forkDigest: string): GossipTopic {
  return { kind: "block", forkDigest };
}

export function attestationTopic(forkDigest: string, subnet: number): GossipTopic {
  return { kind: "attestation", forkDigest, subnet };
}

export function aggregationTopic(forkDigest: string): GossipTopic {
  return { kind: "aggregation", forkDigest };
}

/** Parses a topic string; null for anything that is not exactly one of our three shapes. */
export function parseGossipTopic(name: string): GossipTopic | null {
  const parts = name.split("/");
  if (parts.length !== 5 || parts[0] !== "") return null;
  const [, prefix, forkDigest, topicName, encoding] = parts as [string, string, string, string, string];
  if (prefix !== TOPIC_PREFIX || encoding !== TOPIC_ENCODING || !FORK_DIGEST_PATTERN.test(forkDigest)) return null;
  if (topicName === "block") return { kind: "block", forkDigest };
  if (topicName === "aggregation") return { kind: "aggregation", forkDigest };
  if (topicName.startsWith(ATTESTATION_PREFIX)) {
    const subnet = topicName.slice(ATTESTATION_PREFIX.length);
    if (!SUBNET_PATTERN.test(subnet)) return null;
    return { kind: "attestation", forkDigest, subnet: Number(subnet) };
  }
  return null;
}

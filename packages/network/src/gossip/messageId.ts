// Gossip message id (PROTOCOL.md section 5):
//   sha256(domain ++ uint64_le(len(topic)) ++ topic ++ data)[0:20]
// domain 0x01000000 with the decompressed data when snappy decoding succeeds, else 0x00000000
// with the raw data.
import { createHash } from "node:crypto";
import { MAX_PAYLOAD_SIZE } from "../encoding/limits.ts";
import { uncompressBlock } from "../encoding/snappyBlock.ts";

export const MESSAGE_DOMAIN_VALID_SNAPPY = Uint8Array.of(0x01, 0x00, 0x00, 0x00);
export const MESSAGE_DOMAIN_INVALID_SNAPPY = Uint8Array.of(0x00, 0x00, 0x00, 0x00);
export const MESSAGE_ID_LENGTH = 20;

export function computeMessageId(domain: Uint8Array, topic: string, data: Uint8Array): Uint8Array {
  const topicBytes = Buffer.from(topic, "utf8");
  const topicLength = Buffer.alloc(8);
  topicLength.writeBigUInt64LE(BigInt(topicBytes.length));
  const digest = createHash("sha256").update(domain).update(topicLength).update(topicBytes).update(data).digest();
  return new Uint8Array(digest.subarray(0, MESSAGE_ID_LENGTH));
}

/**
 * Message id of a raw gossip payload. `decompressed` lets a caller that already tried snappy pass
 * its outcome (the payload, or null when decoding failed) so the work is not done twice.
 */
export function gossipMessageId(topic: string, rawData: Uint8Array, decompressed?: Uint8Array | null): Uint8Array {
  const plain = decompressed === undefined ? tryUncompress(rawData) : decompressed;
  return plain === null
    ? computeMessageId(MESSAGE_DOMAIN_INVALID_SNAPPY, topic, rawData)
    : computeMessageId(MESSAGE_DOMAIN_VALID_SNAPPY, topic, plain);
}

function tryUncompress(rawData: Uint8Array): Uint8Array | null {
  try {
    return uncompressBlock(rawData, MAX_PAYLOAD_SIZE);
  } catch {
    return null;
  }
}

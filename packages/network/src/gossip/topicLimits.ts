// Per-topic byte bounds on gossip payloads. Each topic carries one SSZ type, so its largest valid
// message is that type's maxSize: 232 bytes for a single vote, not PROTOCOL.md's generic 10 MiB.
// A block is held to the largest one the node can import (MAX_VALID_SIGNED_BLOCK_SIZE, 5,380
// bytes), not the type's 2.6 MB: a bigger one can only be rejected, after costing a full decode.
// The checks here read only the raw length and the snappy preamble (a varint), so an oversized or
// lying payload is refused before decompression and before its message id is hashed.
import { MAX_VALID_SIGNED_BLOCK_SIZE, SignedAggregatedAttestation, SignedAttestation } from "@metronome/chain";
import { MAX_PAYLOAD_SIZE, maxCompressedLength } from "../encoding/limits.ts";
import { decodeVarint } from "../encoding/varint.ts";
import type { GossipKind } from "./topics.ts";

/** Largest valid uncompressed SSZ payload per topic kind (never above 10 MiB). */
export const GOSSIP_MAX_SSZ_BYTES: Readonly<Record<GossipKind, number>> = {
  block: Math.min(MAX_VALID_SIGNED_BLOCK_SIZE, MAX_PAYLOAD_SIZE),
  attestation: Math.min(SignedAttestation.maxSize, MAX_PAYLOAD_SIZE),
  aggregation: Math.min(SignedAggregatedAttestation.maxSize, MAX_PAYLOAD_SIZE),
};

/** Largest snappy block that can decode to a valid payload of the kind (the encoder's worst case). */
export const GOSSIP_MAX_COMPRESSED_BYTES: Readonly<Record<GossipKind, number>> = {
  block: maxCompressedLength(GOSSIP_MAX_SSZ_BYTES.block),
  attestation: maxCompressedLength(GOSSIP_MAX_SSZ_BYTES.attestation),
  aggregation: maxCompressedLength(GOSSIP_MAX_SSZ_BYTES.aggregation),
};

/** A snappy block's preamble is a 32-bit varint. */
const PREAMBLE_MAX_BYTES = 5;

export type EnvelopeFailure = "compressed_too_large" | "declared_too_large" | "bad_preamble";

/** The cheap checks on a raw gossip payload of `kind`: null when it may be decompressed. */
export function checkGossipEnvelope(kind: GossipKind, raw: Uint8Array): EnvelopeFailure | null {
  if (raw.length > GOSSIP_MAX_COMPRESSED_BYTES[kind]) return "compressed_too_large";
  let declared: number;
  try {
    const preamble = decodeVarint(raw, 0, PREAMBLE_MAX_BYTES);
    if (preamble === null) return "bad_preamble";
    declared = preamble.value;
  } catch {
    return "bad_preamble"; // longer than 5 bytes: not a snappy block
  }
  return declared > GOSSIP_MAX_SSZ_BYTES[kind] ? "declared_too_large" : null;
}

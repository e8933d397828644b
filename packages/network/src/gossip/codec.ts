// Gossip payloads: SSZ compressed with the snappy BLOCK format. Decoding classifies every failure
// so the router can reject it and count it by reason.
import { SignedAggregatedAttestation, SignedAttestation, SignedBlock, tryDecode } from "@metronome/chain";
import { MAX_PAYLOAD_SIZE } from "../encoding/limits.ts";
import { compressBlock, uncompressBlock } from "../encoding/snappyBlock.ts";
import { isNetworkError, NetworkError, NetworkErrorCode } from "../errors.ts";
import type { GossipKind } from "./topics.ts";

export type GossipValueByKind = {
  block: SignedBlock;
  attestation: SignedAttestation;
  aggregation: SignedAggregatedAttestation;
};

export type GossipDecodeFailure = "not_snappy" | "too_large" | "bad_ssz";

export type GossipDecodeResult<K extends GossipKind> =
  | { ok: true; value: GossipValueByKind[K] }
  | { ok: false; reason: GossipDecodeFailure; message: string };

export function serializeGossipValue<K extends GossipKind>(kind: K, value: GossipValueByKind[K]): Uint8Array {
  switch (kind) {
    case "block":
      return SignedBlock.serialize(value as SignedBlock);
    case "attestation":
      return SignedAttestation.serialize(value as SignedAttestation);
    default:
      return SignedAggregatedAttestation.serialize(value as SignedAggregatedAttestation);
  }
}

export function encodeGossipPayload(ssz: Uint8Array): Uint8Array {
  return compressBlock(ssz);
}

export type Decompressed = { ok: true; data: Uint8Array } | { ok: false; reason: GossipDecodeFailure; message: string };

export function decompressGossipPayload(raw: Uint8Array, maxLength = MAX_PAYLOAD_SIZE): Decompressed {
  try {
    return { ok: true, data: uncompressBlock(raw, maxLength) };
  } catch (err) {
    if (isNetworkError(err, NetworkErrorCode.PAYLOAD_TOO_LARGE)) {
      return { ok: false, reason: "too_large", message: err.message };
    }
    return { ok: false, reason: "not_snappy", message: err instanceof NetworkError ? err.message : String(err) };
  }
}

export function decodeGossipSsz<K extends GossipKind>(kind: K, ssz: Uint8Array): GossipDecodeResult<K> {
  const result =
    kind === "block"
      ? tryDecode(SignedBlock, ssz)
      : kind === "attestation"
        ? tryDecode(SignedAttestation, ssz)
        : tryDecode(SignedAggregatedAttestation, ssz);
  if (!result.ok) return { ok: false, reason: "bad_ssz", message: result.error.message };
  return { ok: true, value: result.value as GossipValueByKind[K] };
}

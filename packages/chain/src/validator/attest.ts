// Attester and aggregator duties: sign one vote, and fold single votes into per-data aggregates.
import { BitArray } from "@chainsafe/ssz";
import { VALIDATOR_REGISTRY_LIMIT } from "../constants.ts";
import type { SecretKey } from "../crypto/bls.ts";
import { aggregateSignatureBytes, signatureFromBytes } from "../crypto/bls.ts";
import type { SigningDomains } from "../crypto/signing.ts";
import { attestationDataKey } from "../ssz/keys.ts";
import type { AttestationData, SignedAggregatedAttestation, SignedAttestation } from "../ssz/types.ts";

export function signAttestation(
  secretKey: SecretKey,
  validatorIndex: number,
  data: AttestationData,
  domains: SigningDomains,
): SignedAttestation {
  return { validatorIndex, data, signature: secretKey.sign(domains.attestationSigningRoot(data)).toBytes() };
}

interface Group {
  data: AttestationData;
  signers: Map<number, Uint8Array>;
}

export interface AggregateAttestationsOptions {
  /** Told how long building each aggregate (bits and signature) took, in ms (metrics). */
  onAggregateBuilt?: (ms: number) => void;
}

/**
 * One aggregate per distinct data, in first-seen order: a bit per participant and the BLS
 * aggregate of their signatures. A validator's second attestation for the same data is skipped,
 * as are out-of-range indices and signatures that do not decode. Inputs are assumed verified.
 */
export function aggregateAttestations(
  atts: readonly SignedAttestation[],
  opts: AggregateAttestationsOptions = {},
): SignedAggregatedAttestation[] {
  const groups = new Map<string, Group>();
  for (const att of atts) {
    const index = att.validatorIndex;
    if (!Number.isInteger(index) || index < 0 || index >= VALIDATOR_REGISTRY_LIMIT) continue;
    if (signatureFromBytes(att.signature) === null) continue;
    const key = attestationDataKey(att.data);
    let group = groups.get(key);
    if (group === undefined) {
      group = { data: att.data, signers: new Map() };
      groups.set(key, group);
    }
    if (!group.signers.has(index)) group.signers.set(index, att.signature);
  }

  const out: SignedAggregatedAttestation[] = [];
  for (const { data, signers } of groups.values()) {
    const started = performance.now();
    const indices = [...signers.keys()].sort((a, b) => a - b);
    const bits = BitArray.fromBitLen((indices[indices.length - 1] as number) + 1);
    for (const i of indices) bits.set(i, true);
    const signature = aggregateSignatureBytes(indices.map((i) => signers.get(i) as Uint8Array));
    out.push({ aggregationBits: bits, data, signature });
    opts.onAggregateBuilt?.(performance.now() - started);
  }
  return out;
}

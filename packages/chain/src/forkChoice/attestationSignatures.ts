// Gossip attestation signature checks. Each check is split into "build the signature set" (index
// and bitfield checks, public-key lookup) and "verify it", so a worker pool can batch the second half.
import type { PublicKey } from "../crypto/bls.ts";
import { verifySignature } from "../crypto/bls.ts";
import type { PubkeyCache } from "../crypto/pubkeyCache.ts";
import type { SigningDomains } from "../crypto/signing.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import type { AggregationBits, SignedAggregatedAttestation, SignedAttestation } from "../ssz/types.ts";

/**
 * One (message, key, signature) triple; an aggregate over one message uses the aggregated key.
 * `validatorIndices` names the signers, so a verifier holding the validators' keys (the BLS worker
 * pool) can look them up itself. An aggregate's `publicKey` is summed on first read only: the pool
 * path never reads it, and the main thread then does no key addition per aggregate.
 */
export interface SignatureSet {
  message: Uint8Array;
  readonly publicKey: PublicKey;
  signature: Uint8Array;
  /** One index for a single vote; an aggregate's participants, ascending. */
  validatorIndices: readonly number[];
}

export function getAttestationSignatureSet(
  pubkeys: PubkeyCache,
  domains: SigningDomains,
  att: SignedAttestation,
): SignatureSet {
  if (!pubkeys.has(att.validatorIndex)) {
    throw new ChainError(RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE, `no validator ${att.validatorIndex}`);
  }
  return {
    message: domains.attestationSigningRoot(att.data),
    publicKey: pubkeys.get(att.validatorIndex),
    signature: att.signature,
    validatorIndices: [att.validatorIndex],
  };
}

/** Participant indices of an aggregate, checked against the registry; throws on empty or unknown. */
export function aggregateParticipants(pubkeys: PubkeyCache, bits: AggregationBits): number[] {
  const participants = bits.getTrueBitIndexes();
  if (participants.length === 0) {
    throw new ChainError(RejectionCode.EMPTY_AGGREGATION_BITS, "aggregate has no participants");
  }
  const last = participants[participants.length - 1] as number;
  if (!pubkeys.has(last)) {
    throw new ChainError(RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE, `participant ${last} is not a validator`);
  }
  return participants;
}

/**
 * Fast-aggregate-verify over one message equals a plain verify against the aggregated public key,
 * which is the shape batch verification wants.
 */
export function getAggregatedAttestationSignatureSet(
  pubkeys: PubkeyCache,
  domains: SigningDomains,
  agg: SignedAggregatedAttestation,
): SignatureSet {
  const participants = aggregateParticipants(pubkeys, agg.aggregationBits);
  let aggregated: PublicKey | null = null;
  return {
    message: domains.attestationSigningRoot(agg.data),
    get publicKey(): PublicKey {
      aggregated ??= pubkeys.aggregate(participants);
      return aggregated;
    },
    signature: agg.signature,
    validatorIndices: participants,
  };
}

export function verifySignatureSet(set: SignatureSet): boolean {
  return verifySignature(set.message, set.publicKey, set.signature);
}

export function verifySignedAttestation(pubkeys: PubkeyCache, domains: SigningDomains, att: SignedAttestation): void {
  if (!verifySignatureSet(getAttestationSignatureSet(pubkeys, domains, att))) {
    throw new ChainError(RejectionCode.INVALID_SIGNATURE, `bad attestation signature from ${att.validatorIndex}`);
  }
}

export function verifySignedAggregatedAttestation(
  pubkeys: PubkeyCache,
  domains: SigningDomains,
  agg: SignedAggregatedAttestation,
): void {
  if (!verifySignatureSet(getAggregatedAttestationSignatureSet(pubkeys, domains, agg))) {
    throw new ChainError(RejectionCode.INVALID_SIGNATURE, "bad aggregated attestation signature");
  }
}

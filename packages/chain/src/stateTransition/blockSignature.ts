// The block's single aggregate BLS signature (PROTOCOL.md "Signing"): the proposer's signature over
// the block signing root aggregated with every body attestation's aggregate, checked with
// AggregateVerify over [block, att_1.data, ...] and [proposer, aggregate(att_1 participants), ...].
import type { PublicKey, SecretKey } from "../crypto/bls.ts";
import { aggregateSignatureBytes, verifyAggregate } from "../crypto/bls.ts";
import type { PubkeyCache } from "../crypto/pubkeyCache.ts";
import type { SigningDomains } from "../crypto/signing.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import type { AggregatedAttestation, Block, SignedBlock } from "../ssz/types.ts";
import { assertValidBlockBody } from "./blockBody.ts";

export interface BlockSignatureSet {
  messages: Uint8Array[];
  publicKeys: PublicKey[];
  signature: Uint8Array;
}

/**
 * The same set with its signers named by validator index (the proposer, then each attestation's
 * participants), for a verifier that holds the validators' keys and aggregates them itself (the
 * chain worker): the driver thread then pays for the signing roots only, not the pairings.
 */
export interface IndexedBlockSignatureSet {
  messages: Uint8Array[];
  signers: number[][];
  signature: Uint8Array;
}

function participantIndices(pubkeys: PubkeyCache, attestation: AggregatedAttestation, position: number): number[] {
  const participants = attestation.aggregationBits.getTrueBitIndexes();
  if (participants.length === 0) {
    throw new ChainError(RejectionCode.EMPTY_AGGREGATION_BITS, `attestation ${position} has no participant`, {
      position,
    });
  }
  const highest = participants[participants.length - 1] as number;
  if (!pubkeys.has(highest)) {
    throw new ChainError(
      RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE,
      `attestation ${position} names validator ${highest} outside the registry of ${pubkeys.size}`,
      { position, index: highest },
    );
  }
  return participants;
}

/** Messages and keys the block signature must cover, in protocol order (block first). */
export function getBlockSignatureSet(
  pubkeys: PubkeyCache,
  signedBlock: SignedBlock,
  domains: SigningDomains,
): BlockSignatureSet {
  const { messages, signers, signature } = getIndexedBlockSignatureSet(pubkeys, signedBlock, domains);
  const [proposer, ...attesters] = signers as [number[], ...number[][]];
  return {
    messages,
    publicKeys: [pubkeys.get(proposer[0] as number), ...attesters.map((indices) => pubkeys.aggregate(indices))],
    signature,
  };
}

/** getBlockSignatureSet with signers by index; throws the same ChainErrors for the same blocks. */
export function getIndexedBlockSignatureSet(
  pubkeys: PubkeyCache,
  signedBlock: SignedBlock,
  domains: SigningDomains,
): IndexedBlockSignatureSet {
  const { block, signature } = signedBlock;
  // Attesters first, then the proposer, the order leanSpec bounds-checks them in.
  const attestationSigners = block.body.attestations.map((a, i) => participantIndices(pubkeys, a, i));
  assertKnownProposer(pubkeys, block);
  return {
    messages: [
      domains.blockSigningRoot(block),
      ...block.body.attestations.map((a) => domains.attestationSigningRoot(a.data)),
    ],
    signers: [[block.proposerIndex], ...attestationSigners],
    signature,
  };
}

function assertKnownProposer(pubkeys: PubkeyCache, block: Block): void {
  if (!pubkeys.has(block.proposerIndex)) {
    throw new ChainError(
      RejectionCode.PROPOSER_INDEX_OUT_OF_RANGE,
      `proposer ${block.proposerIndex} is outside the registry of ${pubkeys.size}`,
    );
  }
}

export function verifyBlockSignature(pubkeys: PubkeyCache, signedBlock: SignedBlock, domains: SigningDomains): void {
  const set = getBlockSignatureSet(pubkeys, signedBlock, domains);
  if (!verifyAggregate(set.messages, set.publicKeys, set.signature)) {
    throw new ChainError(
      RejectionCode.INVALID_BLOCK_SIGNATURE,
      `block signature at slot ${signedBlock.block.slot} does not verify`,
    );
  }
}

/** Everything checkable about a signed block without its parent state. */
export function verifySignedBlock(pubkeys: PubkeyCache, signedBlock: SignedBlock, domains: SigningDomains): void {
  assertValidBlockBody(signedBlock.block);
  verifyBlockSignature(pubkeys, signedBlock, domains);
}

/**
 * The inverse of verifyBlockSignature: the proposer signs the block and folds in each body
 * attestation's aggregate signature, given in body order.
 */
export function signBlock(
  block: Block,
  proposerKey: SecretKey,
  attestationSignatures: readonly Uint8Array[],
  domains: SigningDomains,
): Uint8Array {
  if (attestationSignatures.length !== block.body.attestations.length) {
    throw new Error(
      `got ${attestationSignatures.length} attestation signatures for ${block.body.attestations.length} attestations`,
    );
  }
  const proposerSignature = proposerKey.sign(domains.blockSigningRoot(block)).toBytes();
  return aggregateSignatureBytes([proposerSignature, ...attestationSignatures]);
}

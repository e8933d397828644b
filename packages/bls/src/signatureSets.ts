// Builders that turn the chain's signature sets into wire-ready sets. With a verifier that holds
// the validators' keys, a set names its signers by index: the key lookup (and an aggregate's key
// addition) happens where the set is verified, not on the caller's thread. Otherwise keys go out
// uncompressed: the worker then skips decompression and the subgroup check those keys already
// passed when first decoded.
import type { PublicKey, SignatureSet } from "@metronome/chain";
import type { BlsVerifier, SignatureSetInput } from "./types.ts";

export function signatureSet(
  message: Uint8Array,
  publicKey: PublicKey,
  signature: Uint8Array,
  sameMessageGroup?: boolean,
): SignatureSetInput {
  const set: SignatureSetInput = { message, publicKey: publicKey.toBytes(false), signature };
  if (sameMessageGroup !== undefined) set.sameMessageGroup = sameMessageGroup;
  return set;
}

/** The set to submit to `verifier`: by validator index when it holds the keys (publicKey unread). */
export function verifierSignatureSet(
  verifier: Pick<BlsVerifier, "validatorCount">,
  set: SignatureSet,
): SignatureSetInput {
  if (verifier.validatorCount() > 0) {
    return { message: set.message, signature: set.signature, validatorIndices: set.validatorIndices };
  }
  return signatureSet(set.message, set.publicKey, set.signature);
}

// Builders that turn decoded keys into wire-ready sets. Keys go out uncompressed: the worker then
// skips decompression and the subgroup check those keys already passed when first decoded.
import { blst, type PublicKey } from "@metronome/chain";
import type { SignatureSetInput } from "./types.ts";

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

/**
 * An aggregate signature over one message (an aggregated attestation): the participants' keys are
 * summed here, on the main thread (cheap G1 additions), so the worker sees a single key. Null for
 * an empty participant list, which can never verify.
 */
export function aggregatedSignatureSet(
  message: Uint8Array,
  publicKeys: readonly PublicKey[],
  signature: Uint8Array,
): SignatureSetInput | null {
  if (publicKeys.length === 0) return null;
  try {
    return { message, publicKey: blst.aggregatePublicKeys([...publicKeys]).toBytes(false), signature };
  } catch {
    return null;
  }
}

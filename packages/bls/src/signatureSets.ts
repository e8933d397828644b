// Builders that turn decoded keys into wire-ready sets. Keys go out uncompressed: the worker then
// skips decompression and the subgroup check those keys already passed when first decoded.
import type { PublicKey } from "@metronome/chain";
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

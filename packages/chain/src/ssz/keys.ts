// Map keys for byte values: JS Maps compare Uint8Arrays by identity, so roots and attestation
// data are keyed by their hex string.
import { toHex } from "./codec.ts";
import { AttestationData } from "./types.ts";

export type RootHex = string;

export function rootKey(root: Uint8Array): RootHex {
  return toHex(root);
}

/** Two attestations carry the same vote exactly when their data roots are equal. */
export function attestationDataKey(data: AttestationData): string {
  return toHex(AttestationData.hashTreeRoot(data));
}

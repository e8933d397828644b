// Node identity: an Ed25519 libp2p key derived from an optional 32-byte seed, so genesis tooling
// can assign every devnet node a known peer id ahead of time.
import { generateKeyPair, generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { NetworkError, NetworkErrorCode } from "../errors.ts";

export const IDENTITY_SEED_LENGTH = 32;

export async function privateKeyFromSeed(seed?: Uint8Array): Promise<PrivateKey> {
  if (seed === undefined) return generateKeyPair("Ed25519");
  if (seed.length !== IDENTITY_SEED_LENGTH) {
    throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `identity seed must be 32 bytes, got ${seed.length}`);
  }
  return generateKeyPairFromSeed("Ed25519", seed);
}

/** The peer id (base58 string) a node started with this seed will have. */
export async function peerIdFromSeed(seed: Uint8Array): Promise<string> {
  return peerIdFromPrivateKey(await privateKeyFromSeed(seed)).toString();
}

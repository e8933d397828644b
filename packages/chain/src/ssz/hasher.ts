// Which SHA-256 the SSZ hash-tree-root uses. @chainsafe/ssz defaults to @noble/hashes (plain
// JavaScript); under a flood of valid votes the driver thread spent a fifth of its busy time
// hashing attestation data with it (signing roots, pool keys). hashtree (native, SIMD) hashes
// AttestationData in 3.2 us against noble's 13.7 (as-sha256, WebAssembly: 5.5), so it is used
// where its prebuilt binary loads, with as-sha256 as the portable fallback. Every hasher gives the
// same digests: the choice changes speed, never a root. Imported first by ./types.ts so each
// thread (driver, network worker, BLS workers) sets it before it hashes.
import { setHasher } from "@chainsafe/persistent-merkle-tree";
import { hasher as asSha256Hasher } from "@chainsafe/persistent-merkle-tree/hasher/as-sha256";

export type SszHasherName = "hashtree" | "as-sha256";

async function chooseHasher(): Promise<SszHasherName> {
  try {
    const { hasher } = await import("@chainsafe/persistent-merkle-tree/hasher/hashtree");
    setHasher(hasher);
    return "hashtree";
  } catch {
    // No prebuilt hashtree binary for this platform (or it failed to load).
    setHasher(asSha256Hasher);
    return "as-sha256";
  }
}

/** The SHA-256 implementation this thread's SSZ hashing uses. */
export const SSZ_HASHER: SszHasherName = await chooseHasher();

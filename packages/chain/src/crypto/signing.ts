// Signing roots and domains (PROTOCOL.md "Signing").
import { DOMAIN_ATTESTATION, DOMAIN_BLOCK } from "../constants.ts";
import { AttestationData, Block, SigningData } from "../ssz/types.ts";

/** domain = DOMAIN_TYPE (4) ++ fork_digest (4) ++ 24 zero bytes. */
export function computeDomain(domainType: Uint8Array, forkDigest: Uint8Array): Uint8Array {
  if (domainType.length !== 4 || forkDigest.length !== 4) throw new Error("domain type and fork digest are 4 bytes");
  const domain = new Uint8Array(32);
  domain.set(domainType, 0);
  domain.set(forkDigest, 4);
  return domain;
}

export function computeSigningRoot(objectRoot: Uint8Array, domain: Uint8Array): Uint8Array {
  return SigningData.hashTreeRoot({ objectRoot, domain });
}

/** Precomputed domains for one chain; every signing root a node computes goes through here. */
export class SigningDomains {
  readonly forkDigest: Uint8Array;
  readonly block: Uint8Array;
  readonly attestation: Uint8Array;

  constructor(forkDigest: Uint8Array) {
    this.forkDigest = forkDigest;
    this.block = computeDomain(DOMAIN_BLOCK, forkDigest);
    this.attestation = computeDomain(DOMAIN_ATTESTATION, forkDigest);
  }

  blockSigningRoot(block: Block): Uint8Array {
    return computeSigningRoot(Block.hashTreeRoot(block), this.block);
  }

  attestationSigningRoot(data: AttestationData): Uint8Array {
    return computeSigningRoot(AttestationData.hashTreeRoot(data), this.attestation);
  }
}

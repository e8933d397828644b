// Body rules that make the block's aggregate signature sound (PROTOCOL.md "Signing"): AggregateVerify
// needs distinct messages, and the distinct-data cap bounds verification and tally work.
import { MAX_ATTESTATIONS_DATA } from "../constants.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import { attestationDataKey } from "../ssz/keys.ts";
import type { Block } from "../ssz/types.ts";

export function assertValidBlockBody(block: Block): void {
  const seen = new Set<string>();
  block.body.attestations.forEach((attestation, position) => {
    const key = attestationDataKey(attestation.data);
    if (seen.has(key)) {
      throw new ChainError(
        RejectionCode.DUPLICATE_ATTESTATION_DATA,
        `attestation ${position} repeats the data of an earlier one`,
        { position },
      );
    }
    seen.add(key);
    // Checked inside the loop so a huge body costs at most MAX_ATTESTATIONS_DATA + 1 hashes.
    if (seen.size > MAX_ATTESTATIONS_DATA) {
      throw new ChainError(
        RejectionCode.TOO_MANY_ATTESTATION_DATA,
        `block carries more than ${MAX_ATTESTATIONS_DATA} distinct attestation data`,
        { count: block.body.attestations.length },
      );
    }
  });
}

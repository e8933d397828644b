// The duty loop's two checked look-ups through the ranked beacon nodes: attestation data and a
// block to propose. Each answer is checked against what was asked (slot, proposer, head root,
// signing root) before anyone signs it; a mismatch is the node's fault and falls to the next node.
import { attestationDataRoute, produceBlockRoute } from "@metronome/api";
import {
  type AttestationData as AttestationDataValue,
  type Block as BlockValue,
  bytesEqual,
  type SigningDomains,
  shortRoot,
  toHex,
} from "@metronome/chain";
import { BeaconNodeError, type BeaconNodes } from "./beaconNodes.ts";
import type { HeadUpdate } from "./headMonitor.ts";

/**
 * Attestation data for `slot`: from the head's node when `head` is given (its head root must be the
 * one the event announced), else from the best node.
 */
export async function fetchAttestationData(
  nodes: BeaconNodes,
  slot: number,
  head?: HeadUpdate,
): Promise<{ data: AttestationDataValue; url: string }> {
  const { value: data, url } = await nodes.first("attestation data", (c) => c.call(attestationDataRoute, { slot }), {
    only: head?.url,
  });
  if (data.slot !== slot)
    throw new BeaconNodeError("decode", url, `attestation data for slot ${data.slot}, asked ${slot}`);
  if (head !== undefined && toHex(data.head.root) !== head.root.toLowerCase()) {
    throw new Error(
      `head root ${shortRoot(data.head.root)} of ${url} differs from its head event ${head.root.slice(0, 10)}`,
    );
  }
  return { data, url };
}

/** An unsigned block for `slot` by `proposer` and its body's attestation signatures, from the best node that builds one. */
export async function fetchProducedBlock(
  nodes: BeaconNodes,
  domains: SigningDomains,
  slot: number,
  proposer: number,
): Promise<{ block: BlockValue; attestationSignatures: Uint8Array[]; url: string }> {
  const { value, url } = await nodes.first("block production", async (c) => {
    const { block, signingRoot, attestationSignatures } = await c.call(produceBlockRoute, {
      slot,
      proposerIndex: proposer,
    });
    if (block.slot !== slot || block.proposerIndex !== proposer) {
      throw new BeaconNodeError(
        "decode",
        c.url,
        `block for slot ${block.slot} by ${block.proposerIndex}, asked ${slot} by ${proposer}`,
      );
    }
    // The node computes the signing root too: a mismatch means it is on another chain.
    const ours = domains.blockSigningRoot(block);
    if (signingRoot !== null && !bytesEqual(signingRoot, ours)) {
      throw new BeaconNodeError(
        "decode",
        c.url,
        `signing root ${toHex(signingRoot)} differs from ours ${toHex(ours)}: wrong chain?`,
      );
    }
    return { block, attestationSignatures };
  });
  return { ...value, url };
}

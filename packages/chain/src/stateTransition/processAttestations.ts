// leanSpec lstar process_attestations: 3SF-mini justification and finalization from block votes.
import type { BitArray } from "@chainsafe/ssz";
import { MAX_ATTESTATIONS_DATA, ZERO_ROOT } from "../constants.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual } from "../ssz/codec.ts";
import { attestationDataKey, type RootHex, rootKey } from "../ssz/keys.ts";
import type { AggregatedAttestation, AttestationData, Checkpoint, State } from "../ssz/types.ts";
import { dropLeadingBits, withBitSet } from "./bits.ts";
import { isSlotJustified, type Justifications, packJustifications, unpackJustifications } from "./justification.ts";
import { isJustifiableAfter, justifiedIndexAfter } from "./slot.ts";

/** leanSpec AttestationData.lies_on_chain: every checkpoint names the block the chain holds at its slot. */
export function liesOnChain(data: AttestationData, historicalBlockHashes: readonly Uint8Array[]): boolean {
  // Empty slots hold the zero hash, so a zero root would otherwise "match" a missed slot.
  const onChain = (checkpoint: Checkpoint): boolean => {
    if (bytesEqual(checkpoint.root, ZERO_ROOT) || checkpoint.slot >= historicalBlockHashes.length) return false;
    return bytesEqual(checkpoint.root, historicalBlockHashes[checkpoint.slot] as Uint8Array);
  };
  return onChain(data.source) && onChain(data.target) && onChain(data.head);
}

/** A copy so the post-state never aliases the block's byte arrays. */
function copyCheckpoint(checkpoint: Checkpoint): Checkpoint {
  return { root: Uint8Array.from(checkpoint.root), slot: checkpoint.slot };
}

function assertDistinctDataWithinCap(attestations: readonly AggregatedAttestation[]): void {
  const distinct = new Set<string>();
  for (const attestation of attestations) {
    distinct.add(attestationDataKey(attestation.data));
    // Stop hashing as soon as the cap is exceeded: the body may hold thousands of entries.
    if (distinct.size > MAX_ATTESTATIONS_DATA) {
      throw new ChainError(
        RejectionCode.TOO_MANY_ATTESTATION_DATA,
        `block carries more than ${MAX_ATTESTATIONS_DATA} distinct attestation data`,
      );
    }
  }
}

/** Participants of a vote that passed the filters; every one must be a registered validator. */
function votersOf(attestation: AggregatedAttestation, validatorCount: number): number[] {
  const voters = attestation.aggregationBits.getTrueBitIndexes();
  if (voters.length === 0) {
    throw new ChainError(RejectionCode.EMPTY_AGGREGATION_BITS, "aggregated attestation has no participant");
  }
  const highest = voters[voters.length - 1] as number;
  if (highest >= validatorCount) {
    throw new ChainError(
      RejectionCode.VALIDATOR_INDEX_OUT_OF_RANGE,
      `aggregation bit ${highest} is outside the registry of ${validatorCount} validators`,
      { index: highest, validatorCount },
    );
  }
  return voters;
}

/** Root -> slot for the chain's unfinalized slots; used only to prune tallies on finalization. */
function unfinalizedRootSlots(historicalBlockHashes: readonly Uint8Array[], startSlot: number): Map<RootHex, number> {
  const rootSlots = new Map<RootHex, number>();
  for (let slot = startSlot; slot < historicalBlockHashes.length; slot++) {
    rootSlots.set(rootKey(historicalBlockHashes[slot] as Uint8Array), slot);
  }
  return rootSlots;
}

function noJustifiableSlotBetween(sourceSlot: number, targetSlot: number, finalizedSlot: number): boolean {
  for (let slot = sourceSlot + 1; slot < targetSlot; slot++) {
    if (isJustifiableAfter(slot, finalizedSlot)) return false;
  }
  return true;
}

export function processAttestations(state: State, attestations: readonly AggregatedAttestation[]): State {
  assertDistinctDataWithinCap(attestations);

  const validatorCount = state.validators.length;
  const history = state.historicalBlockHashes;
  const justifications: Justifications = unpackJustifications(state);

  let latestJustified = state.latestJustified;
  let latestFinalized = state.latestFinalized;
  let finalizedSlot = latestFinalized.slot;
  let justifiedSlots: BitArray = state.justifiedSlots;

  // The spec maps roots from the pre-state's finalized slot onward; built lazily since only
  // finalization needs it and the unfinalized history can be long.
  const rootSlotsStart = finalizedSlot + 1;
  let rootSlots: Map<RootHex, number> | undefined;

  for (const attestation of attestations) {
    const { source, target } = attestation.data;

    // Filters in spec order: justified source, unjustified target, on this chain, forward, justifiable.
    if (!isSlotJustified(justifiedSlots, finalizedSlot, source.slot)) continue;
    if (isSlotJustified(justifiedSlots, finalizedSlot, target.slot)) continue;
    if (!liesOnChain(attestation.data, history)) continue;
    if (target.slot <= source.slot) continue;
    if (!isJustifiableAfter(target.slot, finalizedSlot)) continue;

    const voters = votersOf(attestation, validatorCount);

    const targetKey = rootKey(target.root);
    let tally = justifications.get(targetKey);
    if (tally === undefined) {
      tally = { root: Uint8Array.from(target.root), votes: new Uint8Array(validatorCount), count: 0 };
      justifications.set(targetKey, tally);
    }
    for (const voter of voters) {
      if (tally.votes[voter] === 0) {
        tally.votes[voter] = 1;
        tally.count++;
      }
    }

    if (3 * tally.count < 2 * validatorCount) continue;

    // Targets in one block can resolve out of order; the justified checkpoint only moves forward.
    if (target.slot > latestJustified.slot) latestJustified = copyCheckpoint(target);

    const justifiedIndex = justifiedIndexAfter(target.slot, finalizedSlot) as number;
    justifiedSlots = withBitSet(justifiedSlots, justifiedIndex);
    justifications.delete(targetKey);

    if (source.slot > finalizedSlot && noJustifiableSlotBetween(source.slot, target.slot, finalizedSlot)) {
      const previousFinalizedSlot = finalizedSlot;
      latestFinalized = copyCheckpoint(source);
      finalizedSlot = source.slot;

      // Rebase the bitlist onto the new finalized slot and drop tallies at or below it.
      justifiedSlots = dropLeadingBits(justifiedSlots, finalizedSlot - previousFinalizedSlot);
      rootSlots ??= unfinalizedRootSlots(history, rootSlotsStart);
      for (const key of [...justifications.keys()]) {
        const slot = rootSlots.get(key);
        if (slot === undefined) {
          throw new ChainError(RejectionCode.INVALID_STATE, "justification root is not on the unfinalized chain");
        }
        if (slot <= finalizedSlot) justifications.delete(key);
      }
    }
  }

  return {
    ...state,
    ...packJustifications(justifications, validatorCount),
    justifiedSlots,
    latestJustified,
    latestFinalized,
  };
}

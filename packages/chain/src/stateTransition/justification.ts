// Justification bookkeeping stored in the state (leanSpec lstar containers/state.py):
// the justified-slots bitlist anchored at the finalized slot, and the pending per-root votes
// flattened into justificationsRoots + justificationsValidators.
import { BitArray } from "@chainsafe/ssz";
import { ZERO_ROOT } from "../constants.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual, compareBytes } from "../ssz/codec.ts";
import { type RootHex, rootKey } from "../ssz/keys.ts";
import type { State } from "../ssz/types.ts";
import { extendBits } from "./bits.ts";
import { justifiedIndexAfter } from "./slot.ts";

/**
 * Slots at or before the finalized slot count as justified; later ones are read from the bitlist.
 * A slot past the tracked range is a rejection, as in leanSpec.
 */
export function isSlotJustified(justifiedSlots: BitArray, finalizedSlot: number, slot: number): boolean {
  const index = justifiedIndexAfter(slot, finalizedSlot);
  if (index === null) return true;
  if (!(index < justifiedSlots.bitLen)) {
    throw new ChainError(
      RejectionCode.JUSTIFIED_SLOT_OUT_OF_RANGE,
      `slot ${slot} is outside the tracked range (finalized ${finalizedSlot}, tracked ${justifiedSlots.bitLen})`,
      { slot, finalizedSlot, tracked: justifiedSlots.bitLen },
    );
  }
  return justifiedSlots.get(index);
}

/** Grow the bitlist so `slot` is addressable; returns the same instance when nothing changes. */
export function extendJustifiedSlots(justifiedSlots: BitArray, finalizedSlot: number, slot: number): BitArray {
  const index = justifiedIndexAfter(slot, finalizedSlot);
  if (index === null || index + 1 <= justifiedSlots.bitLen) return justifiedSlots;
  return extendBits(justifiedSlots, index + 1);
}

/** Votes collected so far for one not-yet-justified target root. */
export interface VoteTally {
  readonly root: Uint8Array;
  /** votes[i] === 1 when validator i voted for the root. */
  readonly votes: Uint8Array;
  count: number;
}

export type Justifications = Map<RootHex, VoteTally>;

function invalidState(message: string): ChainError {
  return new ChainError(RejectionCode.INVALID_STATE, message);
}

/** Split the flat vote bitlist into one tally per root (each segment is validatorCount bits). */
export function unpackJustifications(state: State): Justifications {
  const validatorCount = state.validators.length;
  const roots = state.justificationsRoots;
  const flat = state.justificationsValidators;
  if (flat.bitLen !== roots.length * validatorCount) {
    throw invalidState(
      `justifications hold ${flat.bitLen} vote bits for ${roots.length} roots and ${validatorCount} validators`,
    );
  }
  const segments: VoteTally[] = roots.map((root) => {
    if (bytesEqual(root, ZERO_ROOT)) throw invalidState("zero hash in justifications roots");
    return { root, votes: new Uint8Array(validatorCount), count: 0 };
  });
  for (const bit of flat.getTrueBitIndexes()) {
    const segment = segments[Math.floor(bit / validatorCount)] as VoteTally;
    segment.votes[bit % validatorCount] = 1;
    segment.count++;
  }
  const justifications: Justifications = new Map();
  // A repeated root keeps its last segment, like building a dict from the pairs.
  for (const segment of segments) justifications.set(rootKey(segment.root), segment);
  return justifications;
}

/** Re-flatten the tallies, roots sorted by bytes so every node produces the same state. */
export function packJustifications(
  justifications: Justifications,
  validatorCount: number,
): { justificationsRoots: Uint8Array[]; justificationsValidators: BitArray } {
  const tallies = [...justifications.values()].sort((a, b) => compareBytes(a.root, b.root));
  const flat = BitArray.fromBitLen(tallies.length * validatorCount);
  tallies.forEach((tally, position) => {
    const offset = position * validatorCount;
    for (let v = 0; v < validatorCount; v++) if (tally.votes[v] === 1) flat.set(offset + v, true);
  });
  return { justificationsRoots: tallies.map((t) => t.root), justificationsValidators: flat };
}

// leanSpec lstar process_slots: cache the pre-block state root in the latest header, advance the slot.
import { ZERO_ROOT } from "../constants.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual } from "../ssz/codec.ts";
import { State } from "../ssz/types.ts";

/**
 * Advance `state` through empty slots up to `targetSlot`. Only the first empty slot after a block
 * finds the header's state root empty, so the state is hashed at most once and every later slot
 * only bumps the counter; the loop of the spec therefore collapses to one step.
 */
export function processSlots(state: State, targetSlot: number): State {
  if (!Number.isSafeInteger(targetSlot)) {
    throw new ChainError(RejectionCode.SLOT_OUT_OF_RANGE, `target slot ${targetSlot} is not a safe integer`);
  }
  if (state.slot >= targetSlot) {
    throw new ChainError(
      RejectionCode.BLOCK_SLOT_NOT_IN_FUTURE,
      `target slot ${targetSlot} is not after state slot ${state.slot}`,
      { stateSlot: state.slot, targetSlot },
    );
  }
  const header = state.latestBlockHeader;
  const latestBlockHeader = bytesEqual(header.stateRoot, ZERO_ROOT)
    ? { ...header, stateRoot: State.hashTreeRoot(state) }
    : header;
  return { ...state, latestBlockHeader, slot: targetSlot };
}

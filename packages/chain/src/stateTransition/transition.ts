// leanSpec lstar process_block / state_transition. Signatures are checked before this, separately.
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual, toHex } from "../ssz/codec.ts";
import { type Block, State } from "../ssz/types.ts";
import { processAttestations } from "./processAttestations.ts";
import { processBlockHeader } from "./processBlockHeader.ts";
import { processSlots } from "./processSlots.ts";

export function processBlock(state: State, block: Block): State {
  return processAttestations(processBlockHeader(state, block), block.body.attestations);
}

/** The post-state of `block` without checking its state root (block production fills it from this). */
export function transitionWithoutStateRootCheck(preState: State, block: Block): State {
  return processBlock(processSlots(preState, block.slot), block);
}

/** Full transition: the block must commit to the post-state it produces. */
export function stateTransition(preState: State, block: Block): State {
  const postState = transitionWithoutStateRootCheck(preState, block);
  const computed = State.hashTreeRoot(postState);
  if (!bytesEqual(block.stateRoot, computed)) {
    throw new ChainError(
      RejectionCode.STATE_ROOT_MISMATCH,
      `block state root ${toHex(block.stateRoot)} differs from computed ${toHex(computed)}`,
    );
  }
  return postState;
}

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
  return transition(preState, block, false);
}

/** Phase timings of one full transition (milliseconds), for the node's metrics. */
export interface StateTransitionTiming {
  /** Slots process_slots advanced over (block slot - pre-state slot). */
  slots: number;
  slotsMs: number;
  /** process_block: header and attestations. */
  blockMs: number;
  attestations: number;
  /** Validator votes the body carries: participants summed over its aggregated attestations. */
  votes: number;
  attestationsMs: number;
  /** The whole transition, state-root check included. */
  totalMs: number;
}

export type StateTransitionObserver = (timing: StateTransitionTiming) => void;

/** Full transition: the block must commit to the post-state it produces. */
export function stateTransition(preState: State, block: Block, observe?: StateTransitionObserver): State {
  return transition(preState, block, true, observe);
}

/**
 * process_slots, then process_block (header, attestations), then optionally the state-root check:
 * the one path both transitions take, with each phase timed for `observe` (a clock read costs
 * nothing next to a transition).
 */
function transition(preState: State, block: Block, checkRoot: boolean, observe?: StateTransitionObserver): State {
  const t0 = performance.now();
  const advanced = processSlots(preState, block.slot);
  const t1 = performance.now();
  const withHeader = processBlockHeader(advanced, block);
  const t2 = performance.now();
  const postState = processAttestations(withHeader, block.body.attestations);
  const t3 = performance.now();
  if (checkRoot) checkStateRoot(postState, block);
  observe?.({
    slots: block.slot - preState.slot,
    slotsMs: t1 - t0,
    blockMs: t3 - t1,
    attestations: block.body.attestations.length,
    votes: observe === undefined ? 0 : countVotes(block),
    attestationsMs: t3 - t2,
    totalMs: performance.now() - t0,
  });
  return postState;
}

function countVotes(block: Block): number {
  let votes = 0;
  for (const att of block.body.attestations) votes += att.aggregationBits.getTrueBitIndexes().length;
  return votes;
}

function checkStateRoot(postState: State, block: Block): void {
  const computed = State.hashTreeRoot(postState);
  if (!bytesEqual(block.stateRoot, computed)) {
    throw new ChainError(
      RejectionCode.STATE_ROOT_MISMATCH,
      `block state root ${toHex(block.stateRoot)} differs from computed ${toHex(computed)}`,
    );
  }
}

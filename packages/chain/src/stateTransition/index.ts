// Pure state transition (leanSpec lstar state_transition.py) and block verification.
export { assertValidBlockBody } from "./blockBody.ts";
export {
  type BlockSignatureSet,
  getBlockSignatureSet,
  getIndexedBlockSignatureSet,
  type IndexedBlockSignatureSet,
  signBlock,
  verifyBlockSignature,
  verifySignedBlock,
} from "./blockSignature.ts";
export {
  extendJustifiedSlots,
  isSlotJustified,
  type Justifications,
  packJustifications,
  unpackJustifications,
  type VoteTally,
} from "./justification.ts";
export { liesOnChain, processAttestations } from "./processAttestations.ts";
export { processBlockHeader } from "./processBlockHeader.ts";
export { processSlots } from "./processSlots.ts";
export { integerSqrt, isJustifiableAfter, justifiedIndexAfter, proposerIndexForSlot } from "./slot.ts";
export {
  processBlock,
  type StateTransitionObserver,
  type StateTransitionTiming,
  stateTransition,
  transitionWithoutStateRootCheck,
} from "./transition.ts";

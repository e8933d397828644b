import { proposerIndexForSlot } from "../stateTransition/index.ts";

/** Whether `validatorIndex` proposes at `slot` in a registry of `validatorCount` (round robin). */
export function isProposer(slot: number, validatorIndex: number, validatorCount: number): boolean {
  return validatorCount > 0 && proposerIndexForSlot(slot, validatorCount) === validatorIndex;
}

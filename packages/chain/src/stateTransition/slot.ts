// Slot arithmetic of 3SF-mini (leanSpec lstar slot.py) and the round-robin proposer schedule.
import { IMMEDIATE_JUSTIFICATION_WINDOW } from "../constants.ts";
import { ChainError, RejectionCode } from "../errors.ts";

/**
 * floor(sqrt(n)) for a non-negative safe integer. The float estimate can be one off near large
 * perfect squares, so it is corrected with integer comparisons (exact below 2^53).
 */
export function integerSqrt(n: number): number {
  let root = Math.floor(Math.sqrt(n));
  while (root * root > n) root--;
  while ((root + 1) * (root + 1) <= n) root++;
  return root;
}

/**
 * 3SF-mini: a slot may be justified after `finalizedSlot` when its distance from it is at most
 * IMMEDIATE_JUSTIFICATION_WINDOW, a perfect square, or a pronic number n(n+1).
 * A slot before the finalized one (or a non-integer slot) is never justifiable.
 */
export function isJustifiableAfter(slot: number, finalizedSlot: number): boolean {
  if (!Number.isSafeInteger(slot) || !Number.isSafeInteger(finalizedSlot) || slot < finalizedSlot) return false;
  const delta = slot - finalizedSlot;
  if (delta <= IMMEDIATE_JUSTIFICATION_WINDOW) return true;
  const root = integerSqrt(delta);
  // For a pronic delta = k(k+1), k^2 < delta < (k+1)^2, so floor(sqrt(delta)) is k.
  return root * root === delta || root * (root + 1) === delta;
}

/** Position of `slot` in the justified-slots bitlist, which starts one past the finalized slot. */
export function justifiedIndexAfter(slot: number, finalizedSlot: number): number | null {
  if (slot <= finalizedSlot) return null;
  return slot - finalizedSlot - 1;
}

export function proposerIndexForSlot(slot: number, numValidators: number): number {
  if (numValidators === 0) {
    throw new ChainError(RejectionCode.EMPTY_VALIDATOR_REGISTRY, "no validator to propose with an empty registry");
  }
  return slot % numValidators;
}

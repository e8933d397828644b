// Gossip attestation-data validation (PROTOCOL.md section 4), in the exact protocol order so the
// first failing rule names the rejection. Pure: no store mutation, no signatures, no clock reads.
import { GOSSIP_DISPARITY_INTERVALS, INTERVALS_PER_SLOT } from "../constants.ts";
import { ChainError, isChainError, RejectionCode } from "../errors.ts";
import { toHex } from "../ssz/codec.ts";
import type { AttestationData, Checkpoint } from "../ssz/types.ts";
import { type BlockSummary, type BlockTreeView, isCheckpointAncestor } from "./blockTree.ts";

type UnknownBlockCode =
  | typeof RejectionCode.UNKNOWN_SOURCE_BLOCK
  | typeof RejectionCode.UNKNOWN_TARGET_BLOCK
  | typeof RejectionCode.UNKNOWN_HEAD_BLOCK;

function requireKnown(view: BlockTreeView, checkpoint: Checkpoint, code: UnknownBlockCode, name: string): BlockSummary {
  const block = view.getBlockSummary(checkpoint.root);
  if (block === undefined) {
    throw new ChainError(code, `unknown ${name} block ${toHex(checkpoint.root)}`, { root: checkpoint.root });
  }
  return block;
}

/** Highest slot admitted at `currentInterval`: its start may be at most GOSSIP_DISPARITY_INTERVALS ahead. */
export function maxAdmissibleSlot(currentInterval: number): number {
  // Slot units, not intervals: a hostile near-2^64 slot must not be multiplied first.
  return Math.floor((currentInterval + GOSSIP_DISPARITY_INTERVALS) / INTERVALS_PER_SLOT);
}

/** Cheap pre-check a gossip handler can run before any lookup or signature work. */
export function isTooFarInFuture(data: AttestationData, currentInterval: number): boolean {
  return !(data.slot <= maxAdmissibleSlot(currentInterval));
}

/**
 * Whether every block the data names (source, target, head) is known. A buffered attestation
 * waiting for a block is replayed after each import: this lets a replay skip the ones whose block
 * is still missing with three lookups instead of a thrown rejection, so replaying a full buffer
 * stays well under a millisecond.
 */
export function referencesKnownBlocks(view: BlockTreeView, data: AttestationData): boolean {
  return (
    view.getBlockSummary(data.source.root) !== undefined &&
    view.getBlockSummary(data.target.root) !== undefined &&
    view.getBlockSummary(data.head.root) !== undefined
  );
}

export function validateAttestationData(view: BlockTreeView, data: AttestationData, currentInterval: number): void {
  const { source, target, head } = data;

  const sourceBlock = requireKnown(view, source, RejectionCode.UNKNOWN_SOURCE_BLOCK, "source");
  const targetBlock = requireKnown(view, target, RejectionCode.UNKNOWN_TARGET_BLOCK, "target");
  const headBlock = requireKnown(view, head, RejectionCode.UNKNOWN_HEAD_BLOCK, "head");

  if (source.slot > target.slot) {
    throw new ChainError(RejectionCode.SOURCE_AFTER_TARGET, `source slot ${source.slot} > target slot ${target.slot}`);
  }
  if (head.slot < target.slot) {
    throw new ChainError(RejectionCode.HEAD_OLDER_THAN_TARGET, `head slot ${head.slot} < target slot ${target.slot}`);
  }

  if (sourceBlock.slot !== source.slot) {
    throw new ChainError(RejectionCode.SOURCE_SLOT_MISMATCH, `source slot ${source.slot} != block ${sourceBlock.slot}`);
  }
  if (targetBlock.slot !== target.slot) {
    throw new ChainError(RejectionCode.TARGET_SLOT_MISMATCH, `target slot ${target.slot} != block ${targetBlock.slot}`);
  }
  if (headBlock.slot !== head.slot) {
    throw new ChainError(RejectionCode.HEAD_SLOT_MISMATCH, `head slot ${head.slot} != block ${headBlock.slot}`);
  }

  if (!isCheckpointAncestor(view, source, target)) {
    throw new ChainError(RejectionCode.SOURCE_NOT_ANCESTOR_OF_TARGET, "source is not an ancestor of target");
  }
  if (!isCheckpointAncestor(view, target, head)) {
    throw new ChainError(RejectionCode.TARGET_NOT_ANCESTOR_OF_HEAD, "target is not an ancestor of head");
  }

  if (data.slot < head.slot) {
    throw new ChainError(RejectionCode.ATTESTATION_SLOT_BEFORE_HEAD, `slot ${data.slot} < head slot ${head.slot}`);
  }

  if (isTooFarInFuture(data, currentInterval)) {
    throw new ChainError(
      RejectionCode.FUTURE_SLOT,
      `slot ${data.slot} starts after interval ${currentInterval} + ${GOSSIP_DISPARITY_INTERVALS}`,
      { slot: data.slot, currentInterval },
    );
  }
}

/**
 * What the node should do with a rejected attestation:
 * - "retry": it may become valid later (a referenced block is unknown, or it is at most one slot
 *   early); buffer it and replay after block imports. `unknownRoot` is the block to fetch.
 * - "drop": final.
 */
export type RejectionClass = { kind: "retry"; unknownRoot: Uint8Array | null } | { kind: "drop" };

export function classifyAttestationRejection(
  err: unknown,
  data: AttestationData,
  currentInterval: number,
): RejectionClass {
  if (
    isChainError(err, RejectionCode.UNKNOWN_SOURCE_BLOCK) ||
    isChainError(err, RejectionCode.UNKNOWN_TARGET_BLOCK) ||
    isChainError(err, RejectionCode.UNKNOWN_HEAD_BLOCK)
  ) {
    const root = err.details?.root;
    return { kind: "retry", unknownRoot: root instanceof Uint8Array ? root : null };
  }
  if (isChainError(err, RejectionCode.FUTURE_SLOT)) {
    const currentSlot = Math.floor(currentInterval / INTERVALS_PER_SLOT);
    return data.slot <= currentSlot + 1 ? { kind: "retry", unknownRoot: null } : { kind: "drop" };
  }
  return { kind: "drop" };
}

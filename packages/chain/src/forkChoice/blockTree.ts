// The read-only view of the block tree that attestation validation needs. Kept this small so the
// same checks run against the live store or against a snapshot shipped to a worker thread.
import { bytesEqual } from "../ssz/codec.ts";
import { type RootHex, rootKey } from "../ssz/keys.ts";
import type { Checkpoint } from "../ssz/types.ts";

export interface BlockSummary {
  slot: number;
  parentRoot: Uint8Array;
}

export interface BlockTreeView {
  getBlockSummary(root: Uint8Array): BlockSummary | undefined;
}

/**
 * Whether `ancestor` lies on `descendant`'s parent chain (a checkpoint is its own ancestor).
 * Climbs parent links; leaving the known tree before reaching the ancestor's slot means "no".
 */
export function isCheckpointAncestor(view: BlockTreeView, ancestor: Checkpoint, descendant: Checkpoint): boolean {
  if (ancestor.slot > descendant.slot) return false;
  let root = descendant.root;
  for (;;) {
    const block = view.getBlockSummary(root);
    if (block === undefined) return false;
    if (block.slot === ancestor.slot) return bytesEqual(root, ancestor.root);
    if (block.slot < ancestor.slot) return false;
    root = block.parentRoot;
  }
}

/** Root of the block on `root`'s chain at the highest slot <= `slot`; undefined if the chain leaves the view. */
export function ancestorAtSlot(view: BlockTreeView, root: Uint8Array, slot: number): Uint8Array | undefined {
  let current = root;
  for (;;) {
    const block = view.getBlockSummary(current);
    if (block === undefined) return undefined;
    if (block.slot <= slot) return current;
    current = block.parentRoot;
  }
}

export interface BlockSummaryEntry extends BlockSummary {
  root: Uint8Array;
}

/**
 * A frozen copy of the tree's summaries, cheap to structured-clone into a worker thread.
 * The live store keeps moving; validation against a snapshot is re-checked by the store's owner.
 */
export class BlockTreeSnapshot implements BlockTreeView {
  private readonly byRoot: Map<RootHex, BlockSummary>;

  constructor(entries: Iterable<BlockSummaryEntry>) {
    this.byRoot = new Map();
    for (const e of entries) this.byRoot.set(rootKey(e.root), { slot: e.slot, parentRoot: e.parentRoot });
  }

  get size(): number {
    return this.byRoot.size;
  }

  getBlockSummary(root: Uint8Array): BlockSummary | undefined {
    return this.byRoot.get(rootKey(root));
  }
}

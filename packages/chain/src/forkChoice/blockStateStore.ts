// The fork-choice store's storage: every block it holds, by root, and their post-states, each
// under a count cap. ForkChoiceStore (store.ts) extends this with votes, time, head and finality;
// what to evict and when is its call, how blocks and states are held and looked up is this file's.
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual, toHex } from "../ssz/codec.ts";
import { type RootHex, rootKey } from "../ssz/keys.ts";
import { Block, type Checkpoint, State } from "../ssz/types.ts";
import { type BlockSummary, BlockTreeSnapshot } from "./blockTree.ts";
import { StateCache } from "./stateCache.ts";
import { conflictsWithFinalized, evictionVictim, isAncestorKey } from "./storeTree.ts";
import { checkpointOf, DEFAULT_MAX_BLOCKS, DEFAULT_MAX_STATES, type StoredBlock } from "./storeTypes.ts";

/** Fewer than 2 blocks or 4 states leaves no room beside the pinned ones. */
const MIN_BLOCKS = 2;
const MIN_STATES = 4;

export abstract class BlockStateStore {
  readonly maxBlocks: number;
  readonly maxStates: number;
  protected readonly nodes = new Map<RootHex, StoredBlock>();
  protected readonly states: StateCache;

  /** The block the store starts from (genesis or a checkpoint); it and its state are stored first. */
  protected readonly anchor: StoredBlock;

  constructor(anchorState: State, anchorBlock: Block, maxBlocks: number | undefined, maxStates: number | undefined) {
    if (!bytesEqual(anchorBlock.stateRoot, State.hashTreeRoot(anchorState))) {
      throw new ChainError(RejectionCode.ANCHOR_STATE_ROOT_MISMATCH, "anchor block state root != anchor state root");
    }
    this.maxBlocks = Math.max(MIN_BLOCKS, maxBlocks ?? DEFAULT_MAX_BLOCKS);
    this.maxStates = Math.max(MIN_STATES, maxStates ?? DEFAULT_MAX_STATES);
    this.states = new StateCache(this.maxStates, this.nodes, () => this.pinnedStateKeys());
    this.anchor = this.insert(anchorBlock, Block.hashTreeRoot(anchorBlock), anchorState);
  }

  /** Blocks whose state must never be evicted (the subclass's base, head, justified, finalized). */
  protected abstract pinnedStateKeys(): RootHex[];

  get blockCount(): number {
    return this.nodes.size;
  }

  get stateCount(): number {
    return this.states.size;
  }

  hasBlock(root: Uint8Array): boolean {
    return this.nodes.has(rootKey(root));
  }

  getBlock(root: Uint8Array): Block | undefined {
    return this.nodes.get(rootKey(root))?.block;
  }

  getBlockSummary(root: Uint8Array): BlockSummary | undefined {
    const node = this.nodes.get(rootKey(root));
    return node === undefined ? undefined : { slot: node.slot, parentRoot: node.parentRoot };
  }

  /** Post-state of a stored block; rebuilt by replay if it was evicted under the state cap. */
  getState(root: Uint8Array): State | undefined {
    return this.stateOf(rootKey(root));
  }

  /** Whether `ancestorRoot` is `descendantRoot` or lies on its parent chain. */
  isAncestor(ancestorRoot: Uint8Array, descendantRoot: Uint8Array): boolean {
    return isAncestorKey(this.nodes, rootKey(ancestorRoot), rootKey(descendantRoot));
  }

  /** The block on `root`'s chain at the highest slot <= `slot`. */
  getAncestorAtSlot(root: Uint8Array, slot: number): Checkpoint | undefined {
    let node = this.nodes.get(rootKey(root));
    while (node !== undefined && node.slot > slot) node = this.nodes.get(node.parentKey);
    return node === undefined ? undefined : checkpointOf(node);
  }

  /** A frozen copy of the tree for validation off the main thread. */
  snapshot(): BlockTreeSnapshot {
    return new BlockTreeSnapshot(this.nodes.values());
  }

  protected node(key: RootHex): StoredBlock {
    const node = this.nodes.get(key);
    if (node === undefined) throw new Error(`block ${key} missing from fork-choice store`);
    return node;
  }

  protected insert(block: Block, root: Uint8Array, state: State): StoredBlock {
    const node: StoredBlock = {
      key: rootKey(root),
      root,
      slot: block.slot,
      parentRoot: block.parentRoot,
      parentKey: rootKey(block.parentRoot),
      block,
    };
    this.nodes.set(node.key, node);
    this.states.set(node.key, state);
    return node;
  }

  /**
   * The stored parent of `block` and its post-state, or a ChainError: a block at or below the
   * finalized slot, an unknown parent, or a parent whose chain misses the finalized block.
   */
  protected parentForImport(block: Block, finalized: Checkpoint): { parent: StoredBlock; parentState: State } {
    // Checked before the parent: after pruning, a pre-finalized block's parent is never known,
    // and reporting it as an unknown parent would send the node fetching a dead branch.
    if (block.slot <= finalized.slot) {
      throw new ChainError(
        RejectionCode.PRE_FINALIZED_SLOT,
        `block slot ${block.slot} <= finalized slot ${finalized.slot}`,
      );
    }
    const parent = this.nodes.get(rootKey(block.parentRoot));
    const parentState = parent === undefined ? undefined : this.stateOf(parent.key);
    if (parent === undefined || parentState === undefined) {
      throw new ChainError(RejectionCode.UNKNOWN_PARENT_BLOCK, `unknown parent ${toHex(block.parentRoot)}`, {
        parentRoot: block.parentRoot,
      });
    }
    if (conflictsWithFinalized(this.nodes, parent, finalized)) {
      throw new ChainError(RejectionCode.PRE_FINALIZED_SLOT, "block does not descend from the finalized block");
    }
    return { parent, parentState };
  }

  protected stateOf(key: RootHex): State | undefined {
    return this.states.get(key);
  }

  /**
   * Block cap: at `maxBlocks`, evict the lowest-slot leaf that is off the canonical chain (never
   * `parentKey`) and return it; when every block is canonical (long non-finality), refuse the
   * import with STORE_FULL.
   */
  protected makeRoomForBlock(headKey: RootHex, parentKey: RootHex): StoredBlock | undefined {
    if (this.nodes.size < this.maxBlocks) return undefined;
    const victim = evictionVictim(this.nodes, headKey, parentKey);
    if (victim === undefined) {
      throw new ChainError(RejectionCode.STORE_FULL, `fork-choice store holds ${this.nodes.size} canonical blocks`);
    }
    this.nodes.delete(victim.key);
    this.states.delete(victim.key);
    return victim;
  }

  /** Drop every block (and state) not in `keep`. */
  protected retainBlocks(keep: ReadonlySet<RootHex>): void {
    for (const key of [...this.nodes.keys()]) {
      if (keep.has(key)) continue;
      this.nodes.delete(key);
      this.states.delete(key);
    }
  }
}

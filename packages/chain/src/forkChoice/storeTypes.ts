// The fork-choice store's public result and option types, and the block record it keeps per root.
// Apart from store.ts so the pure tree walks (storeTree.ts) and the state cache can share them.
import type { RootHex } from "../ssz/keys.ts";
import type { Block, Checkpoint, State } from "../ssz/types.ts";
import type { StateTransitionObserver } from "../stateTransition/index.ts";
import type { AggregatePoolOptions } from "./aggregatePool.ts";
import type { BlockSummary } from "./blockTree.ts";
import type { GhostNode } from "./lmdGhost.ts";

/** ~9 hours of 4 s slots without finality before side branches are evicted / imports refused. */
export const DEFAULT_MAX_BLOCKS = 8192;
/** States are the heavy objects; evicted ones are rebuilt by replaying blocks from an ancestor. */
export const DEFAULT_MAX_STATES = 64;

export interface ForkChoiceStoreOptions {
  maxBlocks?: number;
  maxStates?: number;
  aggregatePool?: AggregatePoolOptions;
  /** Told the phase timings of every imported block's state transition (metrics). */
  onStateTransition?: StateTransitionObserver;
}

export interface Reorg {
  /** old head slot - common ancestor slot */
  depth: number;
  commonAncestor: Checkpoint;
}

export interface HeadUpdate {
  oldHead: Checkpoint;
  newHead: Checkpoint;
  changed: boolean;
  /** Set when the new head does not descend from the old one. */
  reorg: Reorg | null;
}

export interface BlockImportResult {
  root: Uint8Array;
  postState: State;
  headUpdate: HeadUpdate;
  /** The block was already in the store; nothing changed. */
  alreadyKnown: boolean;
  /** latestFinalized moved to a higher slot during this import (pruning ran). */
  finalizedAdvanced: boolean;
}

export interface BlockImportOptions {
  /** Default true. False only for blocks whose signature was already checked (own proposal, worker). */
  verifySignatures?: boolean;
  /** The block's root when the caller already hashed it (the node hashes each block once per import). */
  root?: Uint8Array;
}

export interface ForkChoiceNodeInfo {
  root: Uint8Array;
  slot: number;
  parentRoot: Uint8Array;
  weight: number;
}

/** One stored block: its tree links (GhostNode, BlockSummary) and the block itself. */
export interface StoredBlock extends GhostNode, BlockSummary {
  key: RootHex;
  block: Block;
}

/** The store's blocks by root key. */
export type StoredBlocks = ReadonlyMap<RootHex, StoredBlock>;

export function checkpointOf(node: StoredBlock): Checkpoint {
  return { root: node.root, slot: node.slot };
}

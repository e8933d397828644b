// Pure walks over the fork-choice store's block tree: ancestry, reorg depth, the attestation
// target, the block to evict at the cap, what survives finality. No state is changed here; the
// store (store.ts) decides what to do with the answers.

import { JUSTIFICATION_LOOKBACK_SLOTS } from "../constants.ts";
import { bytesEqual } from "../ssz/codec.ts";
import type { RootHex } from "../ssz/keys.ts";
import type { AttestationData, Checkpoint } from "../ssz/types.ts";
import { isJustifiableAfter } from "../stateTransition/index.ts";
import { computeBlockWeights, type VoteHead } from "./lmdGhost.ts";
import {
  checkpointOf,
  type ForkChoiceNodeInfo,
  type HeadUpdate,
  type StoredBlock,
  type StoredBlocks,
} from "./storeTypes.ts";
import type { VoteSet } from "./votes.ts";

/** Whether `ancestorKey` is `descendantKey` or lies on its parent chain. */
export function isAncestorKey(nodes: StoredBlocks, ancestorKey: RootHex, descendantKey: RootHex): boolean {
  const ancestor = nodes.get(ancestorKey);
  if (ancestor === undefined) return false;
  let node = nodes.get(descendantKey);
  while (node !== undefined && node.slot > ancestor.slot) node = nodes.get(node.parentKey);
  return node !== undefined && node.key === ancestorKey;
}

/** Walk `node` up its parents while `more` holds, stopping at the oldest stored ancestor. */
function walkUp(nodes: StoredBlocks, node: StoredBlock, more: (n: StoredBlock) => boolean): StoredBlock {
  let at = node;
  while (more(at)) {
    const parent = nodes.get(at.parentKey);
    if (parent === undefined) break;
    at = parent;
  }
  return at;
}

/** True only when `node`'s chain provably misses the finalized block (walking off the tree is not proof). */
export function conflictsWithFinalized(nodes: StoredBlocks, node: StoredBlock, finalized: Checkpoint): boolean {
  let n: StoredBlock | undefined = node;
  while (n !== undefined && n.slot > finalized.slot) n = nodes.get(n.parentKey);
  return n !== undefined && !bytesEqual(n.root, finalized.root);
}

/** The head change from `oldNode` to `newNode`, with the reorg depth when one does not descend from the other. */
export function describeHeadChange(
  nodes: StoredBlocks,
  oldNode: StoredBlock,
  newNode: StoredBlock,
  finalized: Checkpoint,
): HeadUpdate {
  const update: HeadUpdate = {
    oldHead: checkpointOf(oldNode),
    newHead: checkpointOf(newNode),
    changed: oldNode.key !== newNode.key,
    reorg: null,
  };
  if (update.changed && !isAncestorKey(nodes, oldNode.key, newNode.key)) {
    let a: StoredBlock | undefined = oldNode;
    let b: StoredBlock | undefined = newNode;
    while (a !== undefined && b !== undefined && a.key !== b.key) {
      if (a.slot >= b.slot) a = nodes.get(a.parentKey);
      else b = nodes.get(b.parentKey);
    }
    const common = a !== undefined && b !== undefined ? checkpointOf(a) : finalized;
    update.reorg = { depth: oldNode.slot - common.slot, commonAncestor: common };
  }
  return update;
}

/** leanSpec update_head: the head chain's block at `finalizedSlot`, or undefined when no stored block sits there. */
export function finalizedOnHeadChain(
  nodes: StoredBlocks,
  head: StoredBlock,
  finalizedSlot: number,
): StoredBlock | undefined {
  const node = walkUp(nodes, head, (n) => n.slot > finalizedSlot);
  return node.slot === finalizedSlot ? node : undefined;
}

/**
 * Walk back from the head toward the safe target (at most JUSTIFICATION_LOOKBACK_SLOTS), then back
 * to a slot justifiable after the head chain's finalized slot.
 */
export function attestationTarget(
  nodes: StoredBlocks,
  headKey: RootHex,
  safeTargetKey: RootHex,
  finalizedSlot: number,
  chainFinalizedSlot: number,
): Checkpoint {
  const head = nodes.get(headKey);
  if (head === undefined) throw new Error(`block ${headKey} missing from fork-choice store`);
  const lowerBound = Math.max(nodes.get(safeTargetKey)?.slot ?? finalizedSlot, finalizedSlot);
  let steps = 0;
  let node = walkUp(nodes, head, (n) => steps++ < JUSTIFICATION_LOOKBACK_SLOTS && n.slot > lowerBound);
  // Justifiable as the head's own chain judges it: a block on the head counts a vote only when
  // its target is justifiable after that chain's finalized slot (processAttestations). The
  // store's finalized checkpoint can be ahead of it when an orphaned fork's state finalized a
  // common ancestor; judged by the store's, every vote would get a target no block on the head
  // can count, and justification would stall for good (leanSpec's store takes its finalized
  // checkpoint from the head state, so there the two agree).
  node = walkUp(nodes, node, (n) => n.slot > chainFinalizedSlot && !isJustifiableAfter(n.slot, chainFinalizedSlot));
  return checkpointOf(node);
}

/** Block cap: the lowest-slot leaf off the canonical chain (never `parentKey`), or undefined when none. */
export function evictionVictim(nodes: StoredBlocks, headKey: RootHex, parentKey: RootHex): StoredBlock | undefined {
  const canonical = new Set<RootHex>();
  for (let n = nodes.get(headKey); n !== undefined; n = nodes.get(n.parentKey)) canonical.add(n.key);
  const parents = new Set<RootHex>();
  for (const n of nodes.values()) parents.add(n.parentKey);
  let victim: StoredBlock | undefined;
  for (const n of nodes.values()) {
    if (canonical.has(n.key) || parents.has(n.key) || n.key === parentKey) continue;
    if (victim === undefined || n.slot < victim.slot) victim = n;
  }
  return victim;
}

/** The keys of `root` and every stored descendant of it. */
export function subtreeKeys(nodes: StoredBlocks, root: StoredBlock): Set<RootHex> {
  const keep = new Set<RootHex>([root.key]);
  const bySlot = [...nodes.values()].filter((n) => n.slot > root.slot).sort((a, b) => a.slot - b.slot);
  for (const n of bySlot) if (keep.has(n.parentKey)) keep.add(n.key);
  return keep;
}

/** Counted votes with the "new" ones merged in (newer slot wins, as VoteSet.absorb does), as GHOST inputs. */
export function mergedVoteHeads(known: VoteSet, fresh: VoteSet): VoteHead[] {
  const merged = new Map<number, { slot: number; vote: VoteHead }>();
  for (const [index, vote] of known.entries()) {
    merged.set(index, { slot: vote.data.slot, vote: { key: vote.headKey, slot: vote.data.head.slot } });
  }
  for (const [index, vote] of fresh.entries()) {
    const held = merged.get(index);
    if (held !== undefined && held.slot >= vote.data.slot) continue;
    merged.set(index, { slot: vote.data.slot, vote: { key: vote.headKey, slot: vote.data.head.slot } });
  }
  return [...merged.values()].map((m) => m.vote);
}

/** The vote a validator casts in `slot` from the head, the attestation target and the head state's justified checkpoint. */
export function attestationVote(
  slot: number,
  head: Checkpoint,
  target: Checkpoint,
  justified: Checkpoint,
): AttestationData {
  // The genesis state's justified checkpoint carries a zero root; the head is that block.
  const source = justified.root.every((b) => b === 0)
    ? { root: head.root, slot: justified.slot }
    : { root: justified.root, slot: justified.slot };
  // A stale safe target (updated at interval 3) can lag a justification imported since;
  // voting source == target keeps the vote valid instead of failing the duty.
  return { slot, head, target: target.slot < source.slot ? source : target, source };
}

/** The tree with each block's counted-vote weight, oldest first (debug endpoint). */
export function weightedNodes(
  nodes: StoredBlocks,
  votes: Iterable<VoteHead>,
  finalizedSlot: number,
): ForkChoiceNodeInfo[] {
  const weights = computeBlockWeights(nodes, votes, finalizedSlot, finalizedSlot);
  return [...nodes.values()]
    .sort((a, b) => a.slot - b.slot)
    .map((n) => ({ root: n.root, slot: n.slot, parentRoot: n.parentRoot, weight: weights.get(n.key) ?? 0 }));
}

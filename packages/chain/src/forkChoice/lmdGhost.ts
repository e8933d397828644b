// LMD-GHOST over a plain block-summary map, separate from the store so it can be tested on
// hand-built trees. Mirrors leanSpec _compute_lmd_ghost_head / _accumulate_ancestor_weights.
import { compareBytes } from "../ssz/codec.ts";
import type { RootHex } from "../ssz/keys.ts";

export interface GhostNode {
  root: Uint8Array;
  slot: number;
  parentKey: RootHex;
}

/** The head checkpoint of one validator's latest vote. */
export interface VoteHead {
  key: RootHex;
  slot: number;
}

/**
 * Votes per block: a vote credits its head and every ancestor above `startSlot`, stopping where
 * the chain leaves the map. Votes whose head is at or below `finalizedSlot` carry no weight.
 */
export function computeBlockWeights(
  nodes: ReadonlyMap<RootHex, GhostNode>,
  votes: Iterable<VoteHead>,
  startSlot: number,
  finalizedSlot: number,
): Map<RootHex, number> {
  const weights = new Map<RootHex, number>();
  for (const vote of votes) {
    if (vote.slot <= finalizedSlot) continue;
    let key = vote.key;
    for (;;) {
      const node = nodes.get(key);
      if (node === undefined || node.slot <= startSlot) break;
      weights.set(key, (weights.get(key) ?? 0) + 1);
      key = node.parentKey;
    }
  }
  return weights;
}

export interface LmdGhostInput {
  nodes: ReadonlyMap<RootHex, GhostNode>;
  startKey: RootHex;
  votes: Iterable<VoteHead>;
  finalizedSlot: number;
  /** When set, children weighing less are not considered (the safe-target walk). */
  minScore?: number;
}

/** Greedy descent from `startKey` to the heaviest leaf; ties go to the larger root. */
export function computeLmdGhostHead(input: LmdGhostInput): RootHex {
  const { nodes, startKey, minScore } = input;
  const start = nodes.get(startKey);
  if (start === undefined) throw new Error(`LMD-GHOST start ${startKey} is not in the block tree`);

  const weights = computeBlockWeights(nodes, input.votes, start.slot, input.finalizedSlot);
  const weightOf = (key: RootHex): number => weights.get(key) ?? 0;

  const children = new Map<RootHex, RootHex[]>();
  for (const [key, node] of nodes) {
    if (minScore !== undefined && weightOf(key) < minScore) continue;
    const siblings = children.get(node.parentKey);
    if (siblings === undefined) children.set(node.parentKey, [key]);
    else siblings.push(key);
  }

  let head = startKey;
  for (;;) {
    const candidates = children.get(head);
    if (candidates === undefined) return head;
    let best = candidates[0] as RootHex;
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i] as RootHex;
      const diff = weightOf(c) - weightOf(best);
      if (diff > 0 || (diff === 0 && compareBytes(nodes.get(c)!.root, nodes.get(best)!.root) > 0)) best = c;
    }
    head = best;
  }
}

// Latest vote per validator. Bounded by the validator count: indices outside [0, n) are ignored.
import { type RootHex, rootKey } from "../ssz/keys.ts";
import type { AttestationData } from "../ssz/types.ts";
import type { VoteHead } from "./lmdGhost.ts";

export interface LatestVote {
  data: AttestationData;
  headKey: RootHex;
}

export class VoteSet {
  private readonly votes = new Map<number, LatestVote>();
  private readonly validatorCount: number;

  constructor(validatorCount: number) {
    this.validatorCount = validatorCount;
  }

  get size(): number {
    return this.votes.size;
  }

  get(validatorIndex: number): AttestationData | undefined {
    return this.votes.get(validatorIndex)?.data;
  }

  /** Keeps the vote only if it is strictly newer (by slot) than the one held; returns whether it did. */
  record(validatorIndex: number, vote: LatestVote): boolean {
    if (!Number.isInteger(validatorIndex) || validatorIndex < 0 || validatorIndex >= this.validatorCount) return false;
    const held = this.votes.get(validatorIndex);
    if (held !== undefined && held.data.slot >= vote.data.slot) return false;
    this.votes.set(validatorIndex, vote);
    return true;
  }

  /** Moves every vote of `other` in (newer wins) and empties `other`; returns whether anything changed. */
  absorb(other: VoteSet): boolean {
    let changed = false;
    for (const [index, vote] of other.votes) changed = this.record(index, vote) || changed;
    other.votes.clear();
    return changed;
  }

  /** Drops votes failing `keep`; returns how many were dropped. */
  retain(keep: (vote: LatestVote) => boolean): number {
    let dropped = 0;
    for (const [index, vote] of this.votes) {
      if (!keep(vote)) {
        this.votes.delete(index);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.votes.clear();
  }

  *heads(): IterableIterator<VoteHead> {
    for (const vote of this.votes.values()) yield { key: vote.headKey, slot: vote.data.head.slot };
  }

  entries(): IterableIterator<[number, LatestVote]> {
    return this.votes.entries();
  }
}

export function toLatestVote(data: AttestationData): LatestVote {
  return { data, headKey: rootKey(data.head.root) };
}

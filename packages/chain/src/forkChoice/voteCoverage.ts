// Honest-vote coverage: of the validators' votes for slot s, the share fork choice has counted by
// the end of slot s+1 (measured once per slot, as the store leaves slot s+1). Every validator
// votes every slot (PROTOCOL.md interval 1), so a validator whose counted ("known") vote is for
// slot s or later has had its slot-s vote applied, or a newer one that supersedes it. Under a
// gossip flood this is the figure that says whether honest votes still get through.
import type { AttestationData } from "../ssz/types.ts";

export interface VoteCoverage {
  /** The slot whose votes were counted. */
  slot: number;
  /** Validators whose counted vote is for `slot` or later. */
  applied: number;
  /** Validators that should have voted (every validator of the chain). */
  expected: number;
}

/** Coverage of `slot` over validators 0..validatorCount-1, from each one's counted vote. */
export function measureVoteCoverage(
  slot: number,
  validatorCount: number,
  countedVote: (validatorIndex: number) => AttestationData | undefined,
): VoteCoverage {
  let applied = 0;
  for (let i = 0; i < validatorCount; i++) {
    const vote = countedVote(i);
    if (vote !== undefined && vote.slot >= slot) applied++;
  }
  return { slot, applied, expected: validatorCount };
}

/** Coverage as a share in [0, 1] (1 when no vote was expected). */
export function coverageShare(c: VoteCoverage): number {
  return c.expected === 0 ? 1 : c.applied / c.expected;
}

/** The last slot's coverage and running totals over every slot measured (for counters). */
export interface VoteCoverageStats {
  last: VoteCoverage | null;
  slots: number;
  applied: number;
  expected: number;
}

export class VoteCoverageTally {
  private last: VoteCoverage | null = null;
  private slots = 0;
  private applied = 0;
  private expected = 0;

  record(c: VoteCoverage): void {
    this.last = c;
    this.slots++;
    this.applied += c.applied;
    this.expected += c.expected;
  }

  /**
   * The store's hook at the start of slot `currentSlot` (leaving slot s+1): record slot s =
   * currentSlot - 2. Only in the tick's last slot (`isLastSlotOfTick`), so a catch-up after a restart
   * or a stall does not record the slots it skipped through.
   */
  onSlotStart(
    currentSlot: number,
    isLastSlotOfTick: boolean,
    validatorCount: number,
    countedVote: (validatorIndex: number) => AttestationData | undefined,
  ): void {
    const measured = currentSlot - 2;
    if (measured >= 0 && isLastSlotOfTick) this.record(measureVoteCoverage(measured, validatorCount, countedVote));
  }

  stats(): VoteCoverageStats {
    return { last: this.last, slots: this.slots, applied: this.applied, expected: this.expected };
  }
}

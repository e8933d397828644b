// What each interval of a slot does on the driver thread, in order: the fork-choice step first,
// then the node's own validator duty for that interval (propose at 0, attest at 1, aggregate at 2).
import type { DueInterval, SlotClock } from "@metronome/clock";
import type { BeaconChain } from "../chain/interface.ts";
import type { ValidatorDuties } from "../validator/duties.ts";

export function runIntervalDuties(
  due: DueInterval,
  parts: { chain: BeaconChain; duties: ValidatorDuties; clock: SlotClock },
): void {
  const { chain, duties, clock } = parts;
  const slot = due.slot;
  // A late tick still runs its duty while its slot is current; a stale slot's duty is skipped.
  const current = !due.caughtUp || slot === clock.currentSlot();
  switch (due.intervalInSlot) {
    case 0: {
      const proposer = duties.proposerFor(slot);
      chain.onInterval(due.interval, proposer !== null);
      // Signing waits on the synced slashing-protection write, never the clock.
      if (current) void duties.propose(slot);
      break;
    }
    case 1:
      chain.onInterval(due.interval, false);
      if (current) void duties.attest(slot);
      break;
    case 2:
      chain.onInterval(due.interval, false);
      if (current) duties.aggregate(slot);
      else duties.skipAggregation();
      break;
    default:
      chain.onInterval(due.interval, false);
  }
}

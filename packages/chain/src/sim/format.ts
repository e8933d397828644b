// Text rendering for the CLI: one line per slot, then a verdict.
import { shortRoot } from "../ssz/codec.ts";
import type { Checkpoint } from "../ssz/types.ts";
import type { SimResult, SlotRecord } from "./simulator.ts";
import type { SimVerdict } from "./verdict.ts";

const cp = (c: Checkpoint) => `${c.slot}:${shortRoot(c.root).slice(2)}`;

export function formatSlotLine(record: SlotRecord): string {
  const proposal =
    record.proposer === null ? "genesis     " : record.block === null ? "skipped     " : `+${cp(record.block)}`;
  const nodes = record.nodes.map((v, i) => `n${i} h=${cp(v.head)} j=${cp(v.justified)} f=${cp(v.finalized)}`);
  return `slot ${String(record.slot).padStart(3)} ${proposal.padEnd(12)} atts=${String(record.attestationsPublished).padStart(3)} | ${nodes.join(" | ")}`;
}

export function formatVerdict(result: SimResult, verdict: SimVerdict): string[] {
  const rejected = result.nodeStats.reduce((sum, s) => sum + Object.values(s.rejected).reduce((a, b) => a + b, 0), 0);
  const lines = [
    `nodes=${result.options.nodes} validators=${result.options.validators} slots=${result.options.slots} seed=${result.options.seed}`,
    `head slot ${verdict.headSlot}, justified ${cp(verdict.justified)}, finalized ${cp(verdict.finalized)}`,
    `proposal failures ${result.proposalFailures}, rejected messages ${rejected}, bus dropped ${result.busDropped}`,
  ];
  if (verdict.ok) {
    lines.push(`OK: all ${result.options.nodes} nodes agree on finalized ${cp(verdict.finalized)} at every slot`);
  } else {
    lines.push(
      `FAIL: nodes disagree on the finalized root (at end: ${verdict.finalizedAgree ? "agree" : "differ"}; ` +
        `slots with disagreement: ${verdict.finalizedDisagreementSlots.join(",")})`,
    );
  }
  return lines;
}

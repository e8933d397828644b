// What a run means: do the nodes agree on what is final, and how far did finality get.
import { bytesEqual } from "../ssz/codec.ts";
import type { Checkpoint } from "../ssz/types.ts";
import type { NodeView } from "./simNode.ts";
import type { SimResult } from "./simulator.ts";

export interface SimVerdict {
  /** Every node ends with the same finalized checkpoint. */
  finalizedAgree: boolean;
  /** Slots at whose end the nodes' finalized roots differed. */
  finalizedDisagreementSlots: number[];
  headsAgree: boolean;
  finalized: Checkpoint;
  justified: Checkpoint;
  headSlot: number;
  ok: boolean;
}

function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return a.slot === b.slot && bytesEqual(a.root, b.root);
}

export function allAgree(views: readonly NodeView[], pick: (v: NodeView) => Checkpoint): boolean {
  const first = views[0];
  return first === undefined || views.every((v) => sameCheckpoint(pick(v), pick(first)));
}

export function judgeSimulation(result: SimResult): SimVerdict {
  const last = result.slots[result.slots.length - 1];
  if (last === undefined) throw new Error("simulation recorded no slot");
  const views = last.nodes;
  const first = views[0] as NodeView;
  const finalizedAgree = allAgree(views, (v) => v.finalized);
  const finalizedDisagreementSlots = result.slots
    .filter((s) => !allAgree(s.nodes, (v) => v.finalized))
    .map((s) => s.slot);
  return {
    finalizedAgree,
    finalizedDisagreementSlots,
    headsAgree: allAgree(views, (v) => v.head),
    finalized: first.finalized,
    justified: first.justified,
    headSlot: first.head.slot,
    ok: finalizedAgree && finalizedDisagreementSlots.length === 0,
  };
}

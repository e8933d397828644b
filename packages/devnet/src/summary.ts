// What a devnet run ends with: per-node figures and the two verdicts the launcher exits on.
import type { NodeHealth } from "./health.ts";

export interface NodeSummary {
  node_id: number;
  reachable: boolean;
  head_slot: number | null;
  head_root: string | null;
  justified_slot: number | null;
  justified_root: string | null;
  finalized_slot: number | null;
  finalized_root: string | null;
  peers: number | null;
  intervals_missed: number | null;
}

export interface DevnetSummary {
  nodes: NodeSummary[];
  finalized_agree: boolean;
  /** Nodes that did not serve their block at the compared slot: agreement is then unproven, not refuted. */
  finalized_unanswered: number[];
  finality_advanced: boolean;
  ok: boolean;
  notes: string[];
}

/**
 * `rootAtSlot(node, slot)` resolves a node's canonical block root at a slot, so nodes whose
 * finalized checkpoints differ by one step can still be compared at the lowest common one.
 */
export async function summarize(
  healths: (NodeHealth | null)[],
  nodeIds: number[],
  rootAtSlot: (index: number, slot: number) => Promise<string | null>,
): Promise<DevnetSummary> {
  const nodes: NodeSummary[] = healths.map((h, i) => ({
    node_id: nodeIds[i] ?? i,
    reachable: h !== null,
    head_slot: h?.head_slot ?? null,
    head_root: h?.head_root ?? null,
    justified_slot: h?.justified_slot ?? null,
    justified_root: h?.justified_root ?? null,
    finalized_slot: h?.finalized_slot ?? null,
    finalized_root: h?.finalized_root ?? null,
    peers: h?.peers ?? null,
    intervals_missed: h?.intervals_missed ?? null,
  }));
  const notes: string[] = [];
  const live = healths.filter((h): h is NodeHealth => h !== null);
  if (live.length < healths.length) notes.push(`${healths.length - live.length} node(s) unreachable at the end`);
  const finalityAdvanced = live.length === healths.length && live.every((h) => h.finalized_slot > 0);
  if (!finalityAdvanced) notes.push("finality did not advance past genesis on every node");

  let agree = live.length === healths.length && live.length > 0;
  const unanswered: number[] = [];
  if (agree) {
    const common = Math.min(...live.map((h) => h.finalized_slot));
    const roots = await Promise.all(healths.map((_, i) => rootAtSlot(i, common)));
    const distinct = new Set(roots.filter((r): r is string => r !== null));
    roots.forEach((r, i) => {
      if (r === null) unanswered.push(nodes[i]?.node_id ?? i);
    });
    agree = unanswered.length === 0 && distinct.size === 1;
    if (distinct.size > 1) {
      const byNode = roots.map((r, i) => `node ${nodes[i]?.node_id ?? i}=${r ?? "?"}`).join(", ");
      notes.push(`nodes disagree on the block at finalized slot ${common}: ${byNode}`);
    }
    if (unanswered.length > 0)
      notes.push(
        `node(s) ${unanswered.join(", ")} did not serve their block at finalized slot ${common}: agreement unproven`,
      );
  }
  return {
    nodes,
    finalized_agree: agree,
    finalized_unanswered: unanswered,
    finality_advanced: finalityAdvanced,
    ok: agree && finalityAdvanced,
    notes,
  };
}

/** The launcher's one-word verdict on the finalized roots. */
export function rootsVerdict(summary: DevnetSummary): string {
  if (summary.finalized_agree) return "agree";
  if (summary.finalized_unanswered.length > 0 && !summary.notes.some((n) => n.startsWith("nodes disagree")))
    return `UNPROVEN (${summary.finalized_unanswered.length} node(s) did not answer)`;
  return "DISAGREE";
}

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
  if (agree) {
    const common = Math.min(...live.map((h) => h.finalized_slot));
    const roots = await Promise.all(healths.map((_, i) => rootAtSlot(i, common)));
    agree = roots.every((r) => r !== null && r === roots[0]);
    if (!agree) notes.push(`nodes disagree on the block at finalized slot ${common}: ${roots.join(", ")}`);
  }
  return { nodes, finalized_agree: agree, finality_advanced: finalityAdvanced, ok: agree && finalityAdvanced, notes };
}

// The devnet's live table: one row per node. Pure formatting so it is testable.
import type { NodeHealth } from "./health.ts";

const COLUMNS = ["node", "slot", "head", "justified", "finalized", "peers", "sync", "missed"] as const;

function short(root: string): string {
  return root.length > 10 ? root.slice(0, 10) : root;
}

export function renderStatusTable(rows: { nodeId: number; health: NodeHealth | null; exited?: string }[]): string {
  const cells = rows.map(({ nodeId, health, exited }) => {
    if (health === null) return [String(nodeId), "-", exited ?? "unreachable", "", "", "", "", ""];
    return [
      String(nodeId),
      String(health.current_slot),
      `${health.head_slot} ${short(health.head_root)}`,
      `${health.justified_slot} ${short(health.justified_root)}`,
      `${health.finalized_slot} ${short(health.finalized_root)}`,
      String(health.peers),
      health.sync_state,
      String(health.intervals_missed),
    ];
  });
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [line(COLUMNS), ...cells.map(line)].join("\n");
}

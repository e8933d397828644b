// Printing a result table and saving the JSON next to it (bench/results/ is git-ignored).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo } from "./machine.ts";

export type Row = Record<string, string | number>;

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

function cell(v: string | number): string {
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "-";
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
}

export function formatTable(rows: readonly Row[]): string {
  const first = rows[0];
  if (first === undefined) return "(no rows)";
  const headers = Object.keys(first);
  const body = rows.map((r) => headers.map((h) => cell(r[h] ?? "")));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log(formatTable(rows));
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResult(name: string, params: Record<string, unknown>, results: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  const doc = { name, date: new Date().toISOString(), machine: machineInfo(), params, results };
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}

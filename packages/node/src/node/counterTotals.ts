// Prometheus counters fed from components' running totals: each sync advances a counter series by
// how much its total grew since the last sync (never backwards), keyed so that every series is
// remembered separately.
import type { Counter } from "@metronome/metrics";

type LabelValues = Record<string, string>;

export class CounterTotals {
  /** Last total seen per series key. */
  private readonly seen = new Map<string, number>();

  /** Advances `counter` (with `labels`) by the growth of `total` since the last call for `key`. */
  advance(counter: Counter, key: string, total: number, labels?: LabelValues): void {
    const last = this.seen.get(key) ?? 0;
    if (total > last) {
      if (labels) counter.inc(labels, total - last);
      else counter.inc(total - last);
    }
    this.seen.set(key, Math.max(last, total));
  }

  /** One labelled series per key of `totals`. */
  advanceEach(counter: Counter, keyPrefix: string, totals: Readonly<Record<string, number>>, label: string): void {
    for (const [value, n] of Object.entries(totals))
      this.advance(counter, `${keyPrefix}_${value}`, n, { [label]: value });
  }

  /** One series per cell of a two-label table (rows x columns). */
  advanceTable(
    counter: Counter,
    keyPrefix: string,
    table: Readonly<Record<string, Readonly<Record<string, number>>>>,
    rowLabel: string,
    columnLabel: string,
  ): void {
    for (const [row, columns] of Object.entries(table)) {
      for (const [column, n] of Object.entries(columns)) {
        this.advance(counter, `${keyPrefix}_${row}_${column}`, n, { [rowLabel]: row, [columnLabel]: column });
      }
    }
  }
}

// Renders a registry's exposition text a few metrics at a time, giving the event loop a turn
// between slices. prom-client's own `metrics()` renders every metric (collectors, label sets,
// histogram buckets) in one go: 2-10 ms of the node's driver thread for ~160 metrics, so a slot
// tick due during a scrape waited for all of it (ticks 10-25 ms late on an idle node scraped every
// second). Between slices a due timer runs first.
import type { Registry } from "prom-client";

/**
 * Metrics rendered per slice: ~160 metrics at 2-10 ms make a slice of 16 well under a millisecond,
 * and a scrape ten loop turns long.
 */
export const METRICS_PER_SLICE = 16;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The same text as `registry.metrics()` (Prometheus text format), rendered in slices. */
export async function renderMetricsInSlices(registry: Registry, perSlice = METRICS_PER_SLICE): Promise<string> {
  const parts: string[] = [];
  let inSlice = 0;
  for (const metric of registry.getMetricsAsArray()) {
    if (inSlice === perSlice) {
      await nextTurn();
      inSlice = 0;
    }
    // A metric removed while we yielded is simply not in this scrape.
    const name = metric.name;
    if (registry.getSingleMetric(name) === undefined) continue;
    parts.push(await registry.getSingleMetricAsString(name));
    inSlice++;
  }
  return `${parts.join("\n\n")}\n`;
}

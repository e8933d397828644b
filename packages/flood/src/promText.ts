// Reading a node's /metrics (Prometheus text format) for the flood benchmark and test: parse the
// samples, take counter deltas between two scrapes, and estimate quantiles from histogram bucket
// deltas the way Prometheus' histogram_quantile does (linear inside the bucket), so a quantile is
// only as precise as the bucket bounds around it.

export interface PromSample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** Metric name -> its samples (histograms appear as name_bucket / name_sum / name_count). */
export type PromSamples = ReadonlyMap<string, readonly PromSample[]>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePromText(text: string): PromSamples {
  const out = new Map<string, PromSample[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const [, name, , labelText, valueText] = m as unknown as [string, string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    if (labelText !== undefined) {
      for (const l of labelText.matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, "$1");
    }
    const value =
      valueText === "+Inf" ? Number.POSITIVE_INFINITY : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") continue;
    let list = out.get(name);
    if (list === undefined) {
      list = [];
      out.set(name, list);
    }
    list.push({ labels, value });
  }
  return out;
}

function matches(sample: PromSample, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(labels)) if (sample.labels[k] !== v) return false;
  return true;
}

/** Sum of the samples of `name` whose labels include `labels` (NaN when there is none). */
export function promValue(samples: PromSamples, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const list = samples.get(name)?.filter((s) => matches(s, labels)) ?? [];
  if (list.length === 0) return Number.NaN;
  return list.reduce((sum, s) => sum + s.value, 0);
}

/** Every label value of `label` seen on `name`, with the summed value per label value. */
export function promByLabel(samples: PromSamples, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples.get(name) ?? []) {
    const key = s.labels[label];
    if (key === undefined) continue;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Cumulative bucket counts, ascending by upper bound; the last bound is +Inf. */
export interface HistogramSnapshot {
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
}

export function promHistogram(samples: PromSamples, name: string): HistogramSnapshot | null {
  const buckets = samples.get(`${name}_bucket`);
  if (buckets === undefined || buckets.length === 0) return null;
  const byLe = new Map<number, number>();
  for (const b of buckets) {
    const le = b.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(b.labels.le);
    if (!Number.isNaN(le)) byLe.set(le, (byLe.get(le) ?? 0) + b.value);
  }
  const bounds = [...byLe.keys()].sort((a, b) => a - b);
  return {
    bounds,
    counts: bounds.map((le) => byLe.get(le) as number),
    sum: promValue(samples, `${name}_sum`),
    count: promValue(samples, `${name}_count`),
  };
}

/** Observations between two scrapes of the same histogram (`to` minus `from`). */
export function histogramDelta(from: HistogramSnapshot | null, to: HistogramSnapshot): HistogramSnapshot {
  if (from === null) return to;
  return {
    bounds: to.bounds,
    counts: to.counts.map((c, i) => c - (from.counts[from.bounds.indexOf(to.bounds[i] as number)] ?? 0)),
    sum: to.sum - from.sum,
    count: to.count - from.count,
  };
}

/**
 * The q-quantile, interpolated linearly inside its bucket (histogram_quantile's rule). A quantile
 * falling in the +Inf bucket returns the highest finite bound (the true value is above it).
 * NaN when the histogram holds no observation.
 */
export function histogramQuantile(h: HistogramSnapshot, q: number): number {
  const total = h.counts[h.counts.length - 1] ?? 0;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < h.bounds.length; i++) {
    const count = h.counts[i] as number;
    if (count < rank) continue;
    const upper = h.bounds[i] as number;
    const lower = i === 0 ? 0 : (h.bounds[i - 1] as number);
    if (upper === Number.POSITIVE_INFINITY) return lower;
    const below = i === 0 ? 0 : (h.counts[i - 1] as number);
    const inBucket = count - below;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return h.bounds[h.bounds.length - 2] ?? Number.NaN;
}

/** Upper bound of the highest bucket that received an observation: the maximum is at most this. */
export function histogramMaxBound(h: HistogramSnapshot): number {
  for (let i = h.bounds.length - 1; i >= 0; i--) {
    const below = i === 0 ? 0 : (h.counts[i - 1] as number);
    if ((h.counts[i] as number) - below > 0) return h.bounds[i] as number;
  }
  return Number.NaN;
}

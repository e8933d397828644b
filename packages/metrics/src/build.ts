// Turns one row of the spec table into a prom-client metric on a given registry, with types that
// carry the label names of that row (so `m.forkChoice.syncStatus.set({ status: "idle" }, 1)` checks).

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { MetricSpec } from "./specs.ts";

type LabelsOf<S> = S extends { readonly labels: readonly (infer L)[] } ? Extract<L, string> : never;

export type MetricOf<S> = S extends { readonly type: "counter" }
  ? Counter<LabelsOf<S>>
  : S extends { readonly type: "gauge" }
    ? Gauge<LabelsOf<S>>
    : S extends { readonly type: "histogram" }
      ? Histogram<LabelsOf<S>>
      : never;

export type BuiltGroups<T> = { readonly [G in keyof T]: { readonly [F in keyof T[G]]: MetricOf<T[G][F]> } };

export type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export type Collect = () => void;

export function buildMetric(spec: MetricSpec, registry: Registry, collect?: Collect): AnyMetric {
  const base = {
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
    ...(collect ? { collect } : {}),
  };
  let metric: AnyMetric;
  switch (spec.type) {
    case "counter":
      metric = new Counter(base);
      break;
    case "gauge":
      metric = new Gauge(base);
      break;
    case "histogram":
      if (!spec.buckets || spec.buckets.length === 0) throw new Error(`histogram ${spec.name} has no buckets`);
      metric = new Histogram({ ...base, buckets: [...spec.buckets] });
      break;
  }
  zeroKnownSeries(spec, metric);
  return metric;
}

/** Creates every fully-enumerated label combination at 0 so the series exist before the first event. */
function zeroKnownSeries(spec: MetricSpec, metric: AnyMetric): void {
  if (spec.labels.length === 0) return;
  const values = spec.labelValues;
  if (!values || !spec.labels.every((l) => values[l] !== undefined)) return;
  for (const labels of combinations(spec.labels, values)) {
    if (metric instanceof Counter) metric.inc(labels, 0);
    else if (metric instanceof Gauge) metric.set(labels, 0);
    else metric.zero(labels);
  }
}

function combinations(
  names: readonly string[],
  values: Readonly<Record<string, readonly string[]>>,
): Record<string, string>[] {
  let acc: Record<string, string>[] = [{}];
  for (const name of names) {
    const next: Record<string, string>[] = [];
    for (const partial of acc) for (const v of values[name] ?? []) next.push({ ...partial, [name]: v });
    acc = next;
  }
  return acc;
}

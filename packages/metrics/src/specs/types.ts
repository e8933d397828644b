// The shape of one metric's entry in the spec table (specs.ts assembles the table).

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram upper bounds, ascending, without +Inf. */
  readonly buckets?: readonly number[];
  /**
   * Label values known in advance. When every label of a metric has a list here, each combination
   * is created at 0 on start-up, so dashboards see the series (and rate() works) before the first
   * event. Labels without a list take whatever value the caller passes.
   */
  readonly labelValues?: Readonly<Record<string, readonly string[]>>;
}

/** A named group of specs: `metrics.<group>.<field>` in createMetrics. */
export type SpecGroup = Readonly<Record<string, MetricSpec>>;

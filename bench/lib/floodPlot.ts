// The capacity curve as a picture: tick lateness (p99, max) and the finality gap against the
// flood rate, one panel each, written as a PNG beside the JSON (plot.ts renders it).
import type { TopLevelSpec } from "vega-lite";
import type { CurvePoint } from "./floodReport.ts";

export interface CurveDatum {
  /** Flood rate as a multiple of verification capacity (0 = no flood). */
  multiple: number;
  rate: number;
  panel: "tick lateness (ms)" | "head - finalized (slots)";
  series: string;
  value: number;
}

/** The points the chart draws: finite values only (a period that failed draws nothing). */
export function curveData(points: readonly CurvePoint[]): CurveDatum[] {
  const out: CurveDatum[] = [];
  for (const p of points) {
    if (!Number.isFinite(p.multiple)) continue;
    const add = (panel: CurveDatum["panel"], series: string, value: number) => {
      if (Number.isFinite(value)) out.push({ multiple: p.multiple, rate: p.rate, panel, series, value });
    };
    add("tick lateness (ms)", "p99", p.tickLatenessP99Ms);
    add("tick lateness (ms)", "max (<= bucket)", p.tickLatenessMaxMs);
    add("head - finalized (slots)", "head - finalized max", p.headFinalizedMax);
  }
  return out;
}

export function curveSpec(points: readonly CurvePoint[], title: string): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: curveData(points) },
    columns: 2,
    facet: { field: "panel", type: "nominal", title: null, sort: ["tick lateness (ms)", "head - finalized (slots)"] },
    spec: {
      width: 320,
      height: 220,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "multiple", type: "quantitative", title: "flood rate (x verification capacity; 0 = no flood)" },
        y: { field: "value", type: "quantitative", title: null },
        color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } },
        tooltip: [{ field: "rate", type: "quantitative", title: "msgs/s" }],
      },
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

// What the driver's batch bound buys: each ablation period (node 0 restarted without the bound)
// against the same flood with it, figure by figure (bounded -> unbounded, ratio).
import { ABLATIONS } from "./floodPlan.ts";
import type { PeriodResult } from "./floodRunner.ts";

type Figure = readonly [string, (r: PeriodResult) => number];

const FIGURES: readonly Figure[] = [
  ["tick lateness p99 ms", (r) => r.summary.tickLatenessP99Ms],
  ["tick lateness max ms (<= bucket)", (r) => r.summary.tickLatenessMaxBoundMs],
  ["ticks later than 100 ms", (r) => r.summary.ticksLaterThan100Ms],
  ["intervals missed", (r) => r.summary.intervalsMissed],
  ["driver pass p99 ms", (r) => r.summary.driverPassP99Ms],
  ["event-loop delay max ms", (r) => r.summary.eventLoopMaxMs],
  ["head - finalized max slots", (r) => r.summary.headFinalizedGapMax],
];

export type AblationComparison = Record<string, Record<string, { bounded: number; unbounded: number; ratio: number }>>;

/** `reference`: the bounded single-peer flood at the ablations' rate (floodPlan.ablationReference). */
export function compareAblations(results: readonly PeriodResult[], reference: string): AblationComparison {
  const byName = (name: string) => results.find((r) => r.plan.name === name);
  const pairs = [
    ["worker pool", reference, ABLATIONS[0].name],
    ["main-thread verification", ABLATIONS[1].name, ABLATIONS[2].name],
  ] as const;
  const out: AblationComparison = {};
  for (const [label, boundedName, unboundedName] of pairs) {
    const bounded = byName(boundedName);
    const unbounded = byName(unboundedName);
    if (bounded === undefined || unbounded === undefined) continue;
    out[label] = Object.fromEntries(
      FIGURES.map(([figure, f]) => [
        figure,
        { bounded: f(bounded), unbounded: f(unbounded), ratio: f(unbounded) / f(bounded) },
      ]),
    );
  }
  return out;
}

export function printAblations(comparison: AblationComparison): void {
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");
  for (const [label, figures] of Object.entries(comparison)) {
    console.log(`\nablation, ${label}: the driver's batch bound removed (bounded -> unbounded, ratio)`);
    for (const [figure, v] of Object.entries(figures)) {
      console.log(`  ${figure.padEnd(36)} ${fmt(v.bounded)} -> ${fmt(v.unbounded)}  (x${fmt(v.ratio)})`);
    }
  }
}

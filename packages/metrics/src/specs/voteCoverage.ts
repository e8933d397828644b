// Honest-vote coverage (issue 15; the flood benchmark reads it). Measured by fork choice once per
// slot as it leaves slot s+1: the validators whose counted vote is for slot s or later. Under a
// flood this says whether honest votes still get through. specs.ts places it as RUNTIME_METRICS.voteCoverage.

import { VOTE_COVERAGE_RESULTS } from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const VOTE_COVERAGE = {
  ratio: {
    name: "metronome_vote_coverage_ratio",
    type: "gauge",
    help: "Share of all validators whose slot-s vote (or a newer one) fork choice had counted by the end of slot s+1, for the last slot measured",
    labels: [],
  },
  votes: {
    name: "metronome_vote_coverage_votes_total",
    type: "counter",
    help: "Validator votes checked for honest-vote coverage, one per validator per slot, by result: applied (counted by the end of the next slot) or missing",
    labels: ["result"],
    labelValues: { result: VOTE_COVERAGE_RESULTS },
  },
} as const satisfies SpecGroup;

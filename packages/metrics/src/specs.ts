// The one table of every metric a Metronome node exports: the shared lean-client list
// (leanEthereum/leanMetrics metrics.md, names/types/labels/buckets exactly as written there) and
// Metronome's own runtime metrics. createMetrics builds from this table and the tests iterate it,
// so a metric that is not here does not exist. The entries live one file per area under specs/;
// this file assembles them, in table order.

import { LEAN_FORK_CHOICE, LEAN_STATE_TRANSITION } from "./specs/leanChain.ts";
import { LEAN_BLOCK_PRODUCTION, LEAN_NODE_INFO, LEAN_PQ_SIG } from "./specs/leanNode.ts";
import { LEAN_NETWORK, LEAN_VALIDATOR } from "./specs/leanValidatorNetwork.ts";
import { RUNTIME_CLOCK } from "./specs/runtimeClock.ts";
import { RUNTIME_INGRESS } from "./specs/runtimeIngress.ts";
import { RUNTIME_PEERS } from "./specs/runtimePeers.ts";
import { RUNTIME_QUEUES } from "./specs/runtimeQueues.ts";
import { RUNTIME_STORAGE_HTTP } from "./specs/runtimeStorageHttp.ts";
import type { MetricSpec, SpecGroup } from "./specs/types.ts";
import { VOTE_COVERAGE } from "./specs/voteCoverage.ts";

export * from "./specs/labelValues.ts";
export type { MetricSpec, MetricType } from "./specs/types.ts";

/** The lean-client list (metrics.md). Do not rename, retype or re-bucket anything in it. */
export const LEAN_METRICS = {
  nodeInfo: LEAN_NODE_INFO,
  pqSig: LEAN_PQ_SIG,
  blockProduction: LEAN_BLOCK_PRODUCTION,
  forkChoice: LEAN_FORK_CHOICE,
  stateTransition: LEAN_STATE_TRANSITION,
  validator: LEAN_VALIDATOR,
  network: LEAN_NETWORK,
} as const satisfies Readonly<Record<string, SpecGroup>>;

/**
 * Metronome runtime metrics: what an operator watches when gossip floods the node (is the slot
 * clock on time, is the loop starved, where does work get dropped, is the fetcher bounded).
 */
export const RUNTIME_METRICS = {
  runtime: { ...RUNTIME_INGRESS, ...RUNTIME_QUEUES, ...RUNTIME_CLOCK, ...RUNTIME_PEERS, ...RUNTIME_STORAGE_HTTP },
  voteCoverage: VOTE_COVERAGE,
} as const satisfies Readonly<Record<string, SpecGroup>>;

export const METRIC_SPECS = { ...LEAN_METRICS, ...RUNTIME_METRICS } as const;
export type MetricSpecs = typeof METRIC_SPECS;

export interface ListedSpec {
  /** "lean" for the shared list, "runtime" for Metronome's own. */
  readonly list: "lean" | "runtime";
  readonly group: string;
  readonly field: string;
  readonly spec: MetricSpec;
}

/** Every metric in table order, for tests and docs. */
export function listMetricSpecs(): ListedSpec[] {
  const out: ListedSpec[] = [];
  const lists = [
    ["lean", LEAN_METRICS],
    ["runtime", RUNTIME_METRICS],
  ] as const;
  for (const [list, groups] of lists) {
    for (const [group, fields] of Object.entries(groups)) {
      for (const [field, spec] of Object.entries(fields as SpecGroup)) out.push({ list, group, field, spec });
    }
  }
  return out;
}

// Builds the full metric set of one node on its own registry. Never touches prom-client's global
// registry, so several nodes (a devnet in one process, parallel tests) each get their own.

import { getHeapStatistics } from "node:v8";
import { collectDefaultMetrics, Registry } from "prom-client";
import packageJson from "../package.json" with { type: "json" };
import { type AnyMetric, type BuiltGroups, buildMetric, type Collect } from "./build.ts";
import { startEventLoopDelaySampler } from "./eventLoopDelay.ts";
import { METRIC_SPECS, type MetricSpec, type MetricSpecs, SYNC_STATUSES, type SyncStatus } from "./specs.ts";

export interface CreateMetricsOptions {
  /** Registry to register on; a fresh one by default. Two metric sets cannot share one registry. */
  registry?: Registry;
  /** Value of the `client` label of lean_connected_peers / lean_gossip_mesh_peers, e.g. "metronome_0". */
  client?: string;
  /** `name` label of lean_node_info. */
  name?: string;
  /** `version` label of lean_node_info; the package version by default. */
  version?: string;
  /** Register Node process metrics (process_*, nodejs_*) too. Default true. */
  processMetrics?: boolean;
}

export type MetronomeMetrics = BuiltGroups<MetricSpecs> & {
  readonly registry: Registry;
  /** The `client` label value in use. */
  readonly client: string;
  /** Sets lean_node_sync_status (one-hot) and metronome_sync_state together. */
  setSyncStatus(status: SyncStatus): void;
  /** Stops the event-loop sampler. Metrics stay readable. Idempotent. */
  close(): void;
};

export const DEFAULT_CLIENT_LABEL = "unknown";
export const DEFAULT_NODE_NAME = "metronome";

const SYNC_STATE_NUMBER: Readonly<Record<SyncStatus, number>> = { idle: 0, syncing: 1, synced: 2 };

export function createMetrics(opts: CreateMetricsOptions = {}): MetronomeMetrics {
  const registry = opts.registry ?? new Registry();
  const client = opts.client ?? DEFAULT_CLIENT_LABEL;
  const sampler = startEventLoopDelaySampler();

  // Collectors run on scrape; they read `groups` lazily, after it is built below.
  const collectors: Readonly<Record<string, Collect>> = {
    metronome_event_loop_delay_seconds: () => sampler.collectInto(groups.runtime.eventLoopDelaySeconds),
  };

  // On failure (say, a name already on a caller's registry) undo what was registered here, so the
  // caller's registry is left as it was.
  const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
  let groups: BuiltGroups<MetricSpecs>;
  try {
    groups = buildGroups(registry, collectors);
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  } catch (err) {
    sampler.stop();
    for (const m of registry.getMetricsAsArray()) if (!before.has(m.name)) registry.removeSingleMetric(m.name);
    throw err;
  }

  groups.nodeInfo.info.set({ name: opts.name ?? DEFAULT_NODE_NAME, version: opts.version ?? packageJson.version }, 1);
  groups.nodeInfo.startTimeSeconds.set(Date.now() / 1000);
  // Fixed when the process starts (--max-old-space-size); the node builds its metrics on the driver thread.
  groups.runtime.driverThreadHeapLimitBytes.set(getHeapStatistics().heap_size_limit);
  groups.network.connectedPeers.set({ client }, 0);
  groups.network.gossipMeshPeers.set({ client }, 0);

  const setSyncStatus = (status: SyncStatus): void => {
    for (const s of SYNC_STATUSES) {
      groups.forkChoice.syncStatus.set({ status: s }, s === status ? 1 : 0);
    }
    groups.runtime.syncState.set(SYNC_STATE_NUMBER[status]);
  };
  setSyncStatus("idle");

  return { ...groups, registry, client, setSyncStatus, close: () => sampler.stop() };
}

function buildGroups(registry: Registry, collectors: Readonly<Record<string, Collect>>): BuiltGroups<MetricSpecs> {
  const out: Record<string, Record<string, AnyMetric>> = {};
  for (const [group, fields] of Object.entries(METRIC_SPECS)) {
    const built: Record<string, AnyMetric> = {};
    for (const [field, spec] of Object.entries(fields as Readonly<Record<string, MetricSpec>>)) {
      built[field] = buildMetric(spec, registry, collectors[spec.name]);
    }
    out[group] = built;
  }
  // The loop above follows METRIC_SPECS key by key, which is exactly what BuiltGroups describes.
  return out as unknown as BuiltGroups<MetricSpecs>;
}

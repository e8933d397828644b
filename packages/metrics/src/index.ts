// Re-exported so callers need no direct prom-client dependency.
export { type Counter, type Gauge, type Histogram, Registry } from "prom-client";
export {
  type CreateMetricsOptions,
  createMetrics,
  DEFAULT_CLIENT_LABEL,
  DEFAULT_NODE_NAME,
  type MetronomeMetrics,
} from "./createMetrics.ts";
export { EVENT_LOOP_RESOLUTION_MS } from "./eventLoopDelay.ts";
export {
  type MetricsServer,
  type MetricsSource,
  type StartMetricsServerOptions,
  startMetricsServer,
} from "./server.ts";
export { METRICS_PER_SLICE, renderMetricsInSlices } from "./slicedRender.ts";
export {
  ATTESTATION_KINDS,
  BLOCK_FETCH_OUTCOMES,
  BLS_SET_RESULTS,
  EVENT_LOOP_QUANTILES,
  GOSSIP_ATTESTATION_DROP_REASONS,
  GOSSIP_DECODE_REASONS,
  GOSSIP_RESULTS,
  GOSSIP_TOPICS,
  HTTP_CONNECTION_DROP_REASONS,
  HTTP_REFUSAL_REASONS,
  LEAN_METRICS,
  type ListedSpec,
  listMetricSpecs,
  METRIC_SPECS,
  type MetricSpec,
  type MetricSpecs,
  type MetricType,
  PENDING_BUFFER_REASONS,
  PENDING_REPLAY_OUTCOMES,
  REQRESP_DIRECTIONS,
  REQRESP_PROTOCOLS,
  REQRESP_RESULTS,
  RUNTIME_METRICS,
  SSE_DROP_REASONS,
  SYNC_STATUSES,
  type SyncStatus,
  WORKER_DROP_REASONS,
  WORKER_JOB_KINDS,
  WORKER_JOB_RESULTS,
} from "./specs.ts";

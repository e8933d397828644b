// Metronome runtime metrics (metronome_* and a few lean_ names shared with other clients):
// the database write queue, server-sent events and the HTTP API.
// specs.ts spreads this into RUNTIME_METRICS.runtime.

import {
  BLS_SET_RESULTS,
  DB_WRITE_KINDS,
  HTTP_CONNECTION_DROP_REASONS,
  HTTP_REFUSAL_REASONS,
  SSE_DROP_REASONS,
} from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const RUNTIME_STORAGE_HTTP = {
  // Database write queue (blocks, then finality batches; bounded, retried)
  dbWriteQueueWrites: {
    name: "metronome_db_write_queue_writes",
    type: "gauge",
    help: "Database writes waiting or running (block writes and finality batches)",
    labels: [],
  },
  dbWriteQueueBytes: {
    name: "metronome_db_write_queue_bytes",
    type: "gauge",
    help: "Serialized bytes held by waiting database writes",
    labels: [],
  },
  dbWrites: {
    name: "metronome_db_writes_total",
    type: "counter",
    help: "Database writes that landed, by kind (block|finality)",
    labels: ["kind"],
    labelValues: { kind: DB_WRITE_KINDS },
  },
  dbWriteFailures: {
    name: "metronome_db_write_failures_total",
    type: "counter",
    help: "Failed database write attempts, by kind (block|finality); each is retried with backoff",
    labels: ["kind"],
    labelValues: { kind: DB_WRITE_KINDS },
  },
  dbWriteConsecutiveFailures: {
    name: "metronome_db_write_consecutive_failures",
    type: "gauge",
    help: "Failures in a row of the database write at the head of the queue (0 while writes succeed)",
    labels: [],
  },
  dbFinalitySuperseded: {
    name: "metronome_db_finality_superseded_total",
    type: "counter",
    help: "Queued or failing finality writes replaced by a later finality (whose batch covers their range)",
    labels: [],
  },
  dbImportsRefused: {
    name: "metronome_db_imports_refused_total",
    type: "counter",
    help: "Block imports refused because the database write queue was at its bound",
    labels: [],
  },
  dbBackpressure: {
    name: "metronome_db_backpressure",
    type: "gauge",
    help: "1 while block import waits for room in the database write queue",
    labels: [],
  },
  sseSubscribers: {
    name: "metronome_sse_subscribers",
    type: "gauge",
    help: "Open /eth/v1/events streams",
    labels: [],
  },
  sseDropped: {
    name: "metronome_sse_dropped_total",
    type: "counter",
    help: "Event streams closed by the node, by reason (slow_consumer|too_many_subscribers)",
    labels: ["reason"],
    labelValues: { reason: SSE_DROP_REASONS },
  },
  httpOpenConnections: {
    name: "metronome_http_open_connections",
    type: "gauge",
    help: "Open sockets of the HTTP API server (capped; see docs/operations.md)",
    labels: [],
  },
  httpConnectionsDropped: {
    name: "metronome_http_connections_dropped_total",
    type: "counter",
    help: "HTTP API connections closed by the node, by reason (request_timeout|idle_timeout|max_connections|bad_request)",
    labels: ["reason"],
    labelValues: { reason: HTTP_CONNECTION_DROP_REASONS },
  },
  httpRequestsRefused: {
    name: "metronome_http_requests_refused_total",
    type: "counter",
    help: "HTTP API requests refused before their work, by reason (rate_limited = 429, unauthorized = 401, verifier_busy = 503)",
    labels: ["reason"],
    labelValues: { reason: HTTP_REFUSAL_REASONS },
  },
  httpApiSignatures: {
    name: "metronome_http_api_signatures_total",
    type: "counter",
    help: "Attestation signatures posted to the validator API and verified through the BLS verifier, by verdict",
    labels: ["result"],
    labelValues: { result: BLS_SET_RESULTS },
  },
} as const satisfies SpecGroup;

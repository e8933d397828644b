// Metronome runtime metrics (metronome_* and a few lean_ names shared with other clients):
// the pending-attestation buffer, bounded queues and the BLS verification worker.
// specs.ts spreads this into RUNTIME_METRICS.runtime.

import {
  ATTESTATION_KINDS,
  BLS_SET_RESULTS,
  PENDING_BUFFER_REASONS,
  PENDING_REPLAY_OUTCOMES,
  WORKER_DROP_REASONS,
  WORKER_JOB_KINDS,
  WORKER_JOB_RESULTS,
} from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const RUNTIME_QUEUES = {
  // Pending-attestation buffer (names shared with other lean clients)
  pendingAttestationsBuffered: {
    name: "lean_pending_attestations_buffered_total",
    type: "counter",
    help: "Attestations pushed into the pending buffer, by kind and reason (unknown_block|future_slot)",
    labels: ["kind", "reason"],
    labelValues: { kind: ATTESTATION_KINDS, reason: PENDING_BUFFER_REASONS },
  },
  pendingAttestationsEvicted: {
    name: "lean_pending_attestations_evicted_total",
    type: "counter",
    help: "Oldest pending attestations evicted because the buffer was full",
    labels: ["kind"],
    labelValues: { kind: ATTESTATION_KINDS },
  },
  pendingAttestationsReplay: {
    name: "lean_pending_attestations_replay_total",
    type: "counter",
    help: "Pending attestations replayed after a block import, by outcome (accepted|buffered|dropped)",
    labels: ["kind", "outcome"],
    labelValues: { kind: ATTESTATION_KINDS, outcome: PENDING_REPLAY_OUTCOMES },
  },
  pendingAttestationsSize: {
    name: "lean_pending_attestations_size",
    type: "gauge",
    help: "Entries in the pending-attestation buffer",
    labels: ["kind"],
    labelValues: { kind: ATTESTATION_KINDS },
  },
  // Bounded queues and the verification worker
  queueDepth: {
    name: "metronome_queue_depth",
    type: "gauge",
    help: "Items waiting in a bounded node queue",
    labels: ["queue"],
  },
  queueDropped: {
    name: "metronome_queue_dropped_total",
    type: "counter",
    help: "Items a bounded node queue refused or evicted, by queue and reason",
    labels: ["queue", "reason"],
  },
  workerQueueDepth: {
    name: "metronome_worker_queue_depth",
    type: "gauge",
    help: "Jobs waiting for the verification worker pool",
    labels: [],
  },
  workerJobs: {
    name: "metronome_worker_jobs_total",
    type: "counter",
    help: "Jobs run by the verification worker pool, by kind (bls_verify) and result (success|error)",
    labels: ["kind", "result"],
    labelValues: { kind: WORKER_JOB_KINDS, result: WORKER_JOB_RESULTS },
  },
  workerDropped: {
    name: "metronome_worker_dropped_total",
    type: "counter",
    help: "Signature sets the worker pool refused or abandoned, by reason (queue_full|closed|worker_failed)",
    labels: ["reason"],
    labelValues: { reason: WORKER_DROP_REASONS },
  },
  blsBatchSize: {
    name: "metronome_bls_batch_size",
    type: "histogram",
    help: "Signature sets verified in one BLS batch",
    labels: [],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  },
  blsBatchFallbacks: {
    name: "metronome_bls_batch_fallbacks_total",
    type: "counter",
    help: "BLS batches that failed and were re-verified one set at a time",
    labels: [],
  },
  blsVerifySeconds: {
    name: "metronome_bls_verify_seconds_total",
    type: "counter",
    help: "Seconds the BLS verifier spent verifying signature sets (worker busy time)",
    labels: [],
  },
  blsSetsVerified: {
    name: "metronome_bls_sets_verified_total",
    type: "counter",
    help: "Signature sets the BLS verifier checked, by result (valid|invalid)",
    labels: ["result"],
    labelValues: { result: BLS_SET_RESULTS },
  },
} as const satisfies SpecGroup;

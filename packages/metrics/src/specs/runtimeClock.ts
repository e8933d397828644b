// Metronome runtime metrics (metronome_* and a few lean_ names shared with other clients):
// the slot clock, the in-node validators' signing gate and the sync state.
// specs.ts spreads this into RUNTIME_METRICS.runtime.

import {
  DOPPELGANGER_SKIP_REASONS,
  EVENT_LOOP_QUANTILES,
  SIGNING_DUTIES,
  SLASHING_REFUSAL_REASONS,
} from "./labelValues.ts";
import type { SpecGroup } from "./types.ts";

export const RUNTIME_CLOCK = {
  // Slot clock
  tickLatenessSeconds: {
    name: "metronome_tick_lateness_seconds",
    type: "histogram",
    help: "How late an interval tick ran after its wall-clock boundary",
    labels: [],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 5],
  },
  intervalsMissed: {
    name: "metronome_intervals_missed_total",
    type: "counter",
    help: "Intervals not serviced at their own tick: run late in a catch-up batch, or dropped by the catch-up cap",
    labels: [],
  },
  ticks: {
    name: "metronome_ticks_total",
    type: "counter",
    help: "Interval ticks run",
    labels: [],
  },
  lastTickTimestampSeconds: {
    name: "metronome_last_tick_timestamp_seconds",
    type: "gauge",
    help: "Unix time of the last interval tick (a supervisor alerts when it stops moving)",
    labels: [],
  },
  eventLoopDelaySeconds: {
    name: "metronome_event_loop_delay_seconds",
    type: "gauge",
    help:
      "Event-loop delay beyond the 10 ms sampling interval, over the window since the previous scrape " +
      "(quantile 0.5, 0.99, and 1 = max)",
    labels: ["quantile"],
    labelValues: { quantile: EVENT_LOOP_QUANTILES },
  },
  driverThreadCpuSeconds: {
    name: "metronome_driver_thread_cpu_seconds_total",
    type: "counter",
    help: "Time the driver thread (slot clock, fork choice, duties) spent on a CPU (Linux scheduler statistics)",
    labels: [],
  },
  driverThreadCpuWaitSeconds: {
    name: "metronome_driver_thread_cpu_wait_seconds_total",
    type: "counter",
    help:
      "Time the driver thread was ready to run but waiting for a CPU (Linux scheduler statistics): " +
      "tick lateness the machine caused, not the node's own work",
    labels: [],
  },
  driverThreadHeapLimitBytes: {
    name: "metronome_driver_thread_heap_limit_bytes",
    type: "gauge",
    help:
      "V8 heap limit of the driver thread (set by --max-old-space-size at start; nodejs_heap_size_used_bytes is its use): " +
      "past it V8 stops the whole process",
    labels: [],
  },
  // In-node validators' signing gate
  slashingProtectionRefusals: {
    name: "metronome_slashing_protection_refusals_total",
    type: "counter",
    help: "In-node validator signatures slashing protection refused, by duty and reason (error: the record failed)",
    labels: ["duty", "reason"],
    labelValues: { duty: SIGNING_DUTIES, reason: SLASHING_REFUSAL_REASONS },
  },
  doppelgangerSkipped: {
    name: "metronome_doppelganger_skipped_total",
    type: "counter",
    help: "In-node validator signatures not made because of the doppelganger wait or a detected doppelganger",
    labels: ["duty", "reason"],
    labelValues: { duty: SIGNING_DUTIES, reason: DOPPELGANGER_SKIP_REASONS },
  },
  doppelgangerState: {
    name: "metronome_doppelganger_state",
    type: "gauge",
    help: "Doppelganger watch: 0 off, 1 waiting (not signing yet), 2 passed (signing), 3 detected (signing nothing)",
    labels: [],
  },
  syncState: {
    name: "metronome_sync_state",
    type: "gauge",
    help: "Sync state as one number: 0 idle, 1 syncing, 2 synced",
    labels: [],
  },
} as const satisfies SpecGroup;

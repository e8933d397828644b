// The validator client's metrics, on its own prom-client registry (never the global one), served
// on --metrics-port. Per-URL series are bounded by the node list (at most MAX_BEACON_NODES at a
// time); series of URLs dropped from the list are removed when the list is replaced.
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { HeadMonitorMetrics } from "./headMonitor.ts";

const HEAD_DELAY_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12];
const REORG_DEPTH_BUCKETS = [1, 2, 3, 4, 6, 8, 16, 32, 64];

export class VcMetrics {
  readonly registry = new Registry();
  readonly streamDisconnections = new Counter({
    name: "vc_head_monitor_stream_disconnections_total",
    help: "Head event streams that ended or failed, by beacon node URL",
    labelNames: ["url"] as const,
    registers: [this.registry],
  });
  readonly streamReconnections = new Counter({
    name: "vc_head_monitor_stream_reconnections_total",
    help: "Head event streams re-established after a disconnection, by beacon node URL",
    labelNames: ["url"] as const,
    registers: [this.registry],
  });
  readonly monitorRestarts = new Counter({
    name: "vc_head_monitor_restarts_total",
    help: "Head monitor restarts, by reason (replace_urls, unreachable)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly headDelay = new Histogram({
    name: "vc_head_delay_seconds",
    help: "Time from the start of a head's slot to its head event, by beacon node URL",
    labelNames: ["url"] as const,
    buckets: HEAD_DELAY_BUCKETS,
    registers: [this.registry],
  });
  readonly reorgDepth = new Histogram({
    name: "vc_reorg_depth",
    help: "Depth of chain_reorg events seen on the head streams",
    buckets: REORG_DEPTH_BUCKETS,
    registers: [this.registry],
  });
  readonly attestationsPublished = new Counter({
    name: "vc_attestations_published_total",
    help: "Attestations a beacon node accepted, by how the attestation data was chosen",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly attestationsFailed = new Counter({
    name: "vc_attestations_failed_total",
    help: "Attestation duties that produced no published attestation, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly blocksPublished = new Counter({
    name: "vc_blocks_published_total",
    help: "Blocks a beacon node accepted",
    registers: [this.registry],
  });
  readonly blocksFailed = new Counter({
    name: "vc_blocks_failed_total",
    help: "Block proposals that produced no published block, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly requestErrors = new Counter({
    name: "vc_beacon_node_request_errors_total",
    help: "Failed requests to a beacon node, by URL and kind (timeout, network, http, decode)",
    labelNames: ["url", "kind"] as const,
    registers: [this.registry],
  });
  readonly slashingRefusals = new Counter({
    name: "vc_slashing_protection_refusals_total",
    help: "Signatures refused by slashing protection, by duty and reason",
    labelNames: ["duty", "reason"] as const,
    registers: [this.registry],
  });
  readonly dutyFetches = new Counter({
    name: "vc_duty_fetches_total",
    help: "Duty look-ups answered by a beacon node, by cause (window: cache miss or prefetch; reorg)",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The head monitor's callbacks, recorded on this registry. */
  headMonitorMetrics(): HeadMonitorMetrics {
    return {
      streamDisconnected: (url) => this.streamDisconnections.inc({ url }),
      streamReconnected: (url) => this.streamReconnections.inc({ url }),
      monitorRestarted: (reason) => this.monitorRestarts.inc({ reason }),
      // Negative under clock skew; the histogram's first bucket takes it.
      headDelay: (url, delayMs) => this.headDelay.observe({ url }, delayMs / 1000),
      reorgDepth: (_url, depth) => this.reorgDepth.observe(depth),
    };
  }

  /** Drops the per-URL series of URLs no longer configured. */
  forgetUrls(removed: readonly string[]): void {
    for (const url of removed) {
      this.streamDisconnections.remove({ url });
      this.streamReconnections.remove({ url });
      this.headDelay.remove({ url });
      for (const kind of ["timeout", "network", "http", "decode"]) this.requestErrors.remove({ url, kind });
    }
  }
}

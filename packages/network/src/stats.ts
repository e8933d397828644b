// Plain counters for everything the network layer drops, rejects or refuses. The set of names is
// fixed, so the object never grows; the metrics package can read `snapshot()` later.

export const COUNTER_NAMES = [
  "gossip_received_block",
  "gossip_received_attestation",
  "gossip_received_aggregation",
  "gossip_accepted",
  "gossip_ignored",
  "gossip_rejected_by_handler",
  "gossip_rejected_not_snappy",
  "gossip_rejected_too_large",
  "gossip_rejected_bad_ssz",
  "gossip_rejected_bad_topic",
  "gossip_no_handler",
  "gossip_handler_errors",
  "gossip_dropped_overload",
  "gossip_published",
  "gossip_publish_failed",
  "reqresp_inbound_requests",
  "reqresp_rate_limited",
  "reqresp_invalid_requests",
  "reqresp_server_errors",
  "reqresp_inbound_timeouts",
  "reqresp_outbound_requests",
  "reqresp_outbound_timeouts",
  "reqresp_outbound_invalid_responses",
  "reqresp_outbound_peer_errors",
  "reqresp_outbound_failures",
  "bootnode_dial_attempts",
  "bootnode_dial_failures",
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type NetworkStats = Readonly<Record<CounterName, number>>;

export class NetworkCounters {
  private readonly values: Record<CounterName, number>;

  constructor() {
    this.values = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<CounterName, number>;
  }

  inc(name: CounterName, by = 1): void {
    this.values[name] += by;
  }

  get(name: CounterName): number {
    return this.values[name];
  }

  snapshot(): NetworkStats {
    return { ...this.values };
  }
}

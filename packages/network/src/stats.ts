// Plain counters for everything the network layer drops, rejects or refuses. The set of names is
// fixed, so the object never grows; the metrics package can read `snapshot()` later.
import { REQRESP_RESULTS } from "@metronome/metrics/labels";

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
  "reqresp_outbound_oversized_responses",
  "reqresp_outbound_peer_errors",
  "reqresp_outbound_failures",
  // Outbound requests refused before sending: their response would not fit in the shared budget.
  "reqresp_outbound_budget_refusals",
  "bootnode_dial_attempts",
  "bootnode_dial_failures",
  "gossip_rejected_wrong_subnet",
  // The network worker's gossip boundary (0 when the network runs in the main thread).
  "gossip_boundary_overload_count",
  "gossip_boundary_overload_bytes",
  "gossip_verdict_timeouts",
  // Messages the worker ignored because the node held their sender's overflowing lane.
  "gossip_boundary_held",
  // Of those boundary drops, the ones refused as their RPC arrived, before any hashing or decoding.
  "gossip_refused_before_decode",
  // Connections closed because their gossip outbound stream was lost (over its byte cap, or gone).
  "gossip_outbound_lost_disconnects",
  // Full collections the network worker asked of V8 while its heap was past the floor, and
  // last-resort ones that gave a burst's pages back (heapReducer.ts; 0 on the main thread).
  "network_heap_full_collections",
  "network_heap_releases",
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type NetworkStats = Readonly<Record<CounterName, number>>;

export class NetworkCounters {
  private readonly values: Record<CounterName, number>;
  /** The same events broken down by the labels the node's metrics carry. */
  readonly labelled = new LabelledNetworkCounters();
  readonly gossipSizes = new GossipSizeSamples();

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

// ---- labelled counters for the node's Prometheus series (plain numbers, fixed key sets) ----------

export const GOSSIP_STAT_KINDS = ["block", "attestation", "aggregation"] as const;
export type GossipStatKind = (typeof GOSSIP_STAT_KINDS)[number];
export const GOSSIP_VERDICTS = ["accept", "reject", "ignore"] as const;
export type GossipVerdictName = (typeof GOSSIP_VERDICTS)[number];
export const REQRESP_STAT_METHODS = ["status", "blocksByRoot", "blocksByRange"] as const;
export type ReqRespStatMethod = (typeof REQRESP_STAT_METHODS)[number];
/** The metrics' req/resp result labels: one list, so a new outcome cannot miss its label. */
export const REQRESP_OUTCOMES = REQRESP_RESULTS;
export type ReqRespOutcome = (typeof REQRESP_OUTCOMES)[number];
export type Direction = "inbound" | "outbound";
export type ConnectionResult = "success" | "timeout" | "error";
export type DisconnectReason = "remote_close" | "local_close";

export const GOSSIP_DECODE_FAILURES = ["not_snappy", "too_large", "bad_ssz"] as const;
export type GossipDecodeFailureName = (typeof GOSSIP_DECODE_FAILURES)[number];

export interface LabelledNetworkStats {
  /** Every validation verdict returned to gossipsub, by topic kind (decode failures are rejects). */
  gossipVerdicts: Record<GossipStatKind, Record<GossipVerdictName, number>>;
  /** Payloads that failed to decompress or decode, by topic kind (bad topics have no kind). */
  gossipDecodeFailures: Record<GossipStatKind, Record<GossipDecodeFailureName, number>>;
  reqresp: Record<ReqRespStatMethod, Record<Direction, Record<ReqRespOutcome, number>>>;
  /** Inbound failures never reach us (libp2p drops them during the upgrade). */
  peerConnections: Record<Direction, Record<ConnectionResult, number>>;
  peerDisconnections: Record<Direction, Record<DisconnectReason, number>>;
}

function table<K extends string, V>(keys: readonly K[], value: () => V): Record<K, V> {
  return Object.fromEntries(keys.map((k) => [k, value()])) as Record<K, V>;
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> => table(keys, () => 0);

export class LabelledNetworkCounters {
  readonly values: LabelledNetworkStats = {
    gossipVerdicts: table(GOSSIP_STAT_KINDS, () => zeros(GOSSIP_VERDICTS)),
    gossipDecodeFailures: table(GOSSIP_STAT_KINDS, () => zeros(GOSSIP_DECODE_FAILURES)),
    reqresp: table(REQRESP_STAT_METHODS, () => table(["inbound", "outbound"] as const, () => zeros(REQRESP_OUTCOMES))),
    peerConnections: table(["inbound", "outbound"] as const, () => zeros(["success", "timeout", "error"] as const)),
    peerDisconnections: table(["inbound", "outbound"] as const, () => zeros(["remote_close", "local_close"] as const)),
  };

  gossipVerdict(kind: GossipStatKind, verdict: GossipVerdictName): void {
    this.values.gossipVerdicts[kind][verdict]++;
  }

  gossipDecodeFailure(kind: GossipStatKind, reason: GossipDecodeFailureName): void {
    this.values.gossipDecodeFailures[kind][reason]++;
  }

  reqresp(method: ReqRespStatMethod, direction: Direction, outcome: ReqRespOutcome): void {
    this.values.reqresp[method][direction][outcome]++;
  }

  snapshot(): LabelledNetworkStats {
    return structuredClone(this.values);
  }
}

/** Most sizes kept per topic kind between two drains; the rest are skipped (the histogram is sampled). */
export const MAX_SIZE_SAMPLES = 256;

/**
 * Received gossip message sizes, kept for the size histograms: O(1) per message, bounded per kind,
 * emptied by each drain (the metrics sync), so no size is observed twice.
 */
export class GossipSizeSamples {
  private readonly samples: Record<GossipStatKind, number[]> = { block: [], attestation: [], aggregation: [] };
  private readonly cap: number;

  constructor(cap = MAX_SIZE_SAMPLES) {
    this.cap = cap;
  }

  record(kind: GossipStatKind, bytes: number): void {
    const list = this.samples[kind];
    if (list.length < this.cap) list.push(bytes);
  }

  drain(): Record<GossipStatKind, number[]> {
    const out = { ...this.samples };
    for (const kind of GOSSIP_STAT_KINDS) this.samples[kind] = [];
    return out;
  }
}

// What a network worker is started with (its workerData): structured-cloneable host options and
// the boundary's tunables. Shared by the worker entry and its client.
import type { ChannelLimits } from "../boundary/gossipOutbox.ts";
import type { GossipKind } from "../gossip/topics.ts";
import type { NetworkHostOptions } from "../host/networkHost.ts";

/** Host options that survive a structured clone (no functions). */
export type NetworkWorkerHostOptions = Omit<NetworkHostOptions, "scoreClock">;

/**
 * Stats the driver thread reads synchronously (peer count, counters) are at most this old: often
 * enough for health and a 4 s slot's log line, rare enough to cost nothing (one small message).
 */
export const STATS_PUSH_MS = 250;

export type NetworkWorkerInit = {
  host: NetworkWorkerHostOptions;
  statsPushMs: number;
  channelLimits?: Partial<Record<GossipKind, ChannelLimits>>;
  verdictDeadlineMs?: number;
};

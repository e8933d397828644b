// The head monitor's public types: what it reports (heads, reorgs, metrics, stats) and its options.
import type { SseLog, SseState, SseStreamStats } from "./sseStream.ts";

export interface HeadUpdate {
  url: string;
  slot: number;
  /** Lowercase 0x-prefixed block root. */
  root: string;
  receivedAtMs: number;
  /** receivedAtMs minus the start of `slot`; negative if the local clock is behind the node's. */
  delayMs: number;
}

export interface ReorgUpdate {
  url: string;
  slot: number;
  depth: number;
  oldHead: string;
  newHead: string;
}

export type MonitorRestartReason = "unreachable" | "replace_urls";

/** What the monitor reports to metrics; the validator client maps it onto its registry. */
export interface HeadMonitorMetrics {
  /** An open stream ended (server gone, reader failure, oversized event, ...). */
  streamDisconnected(url: string): void;
  /** A stream that had disconnected is open again. */
  streamReconnected(url: string): void;
  monitorRestarted(reason: MonitorRestartReason): void;
  /** Per head event: time from the start of its slot (ms; may be negative under clock skew). */
  headDelay(url: string, delayMs: number): void;
  reorgDepth(url: string, depth: number): void;
}

export interface HeadMonitorOptions {
  /** Beacon node base URLs, e.g. http://127.0.0.1:5052 (duplicates are ignored). */
  urls: string[];
  genesisTimeMs: number;
  slotDurationMs: number;
  /** Every valid head event, attributed by URL. Throwing here restarts that node's stream. */
  onHead(head: HeadUpdate): void;
  onReorg?(reorg: ReorgUpdate): void;
  /** E.g. every node unreachable for MAX_UNREACHABLE_ROUNDS retry rounds. */
  onError?(err: Error): void;
  metrics?: HeadMonitorMetrics;
  log?: SseLog;
  /** Per-stream connect timeout; defaults to min(5000, 3/4 slot) so an attempt ends before the next round. */
  connectTimeoutMs?: number;
  /** Per-stream event size cap (SseStream's default, 64 KiB, when unset). */
  maxEventBytes?: number;
  /** Tests only. */
  fetchImpl?: typeof fetch;
  now?: () => number;
}

export interface HeadMonitorStats {
  /** Slot-boundary timer firings: one per slot while running, never more. */
  slotTicks: number;
  /** Connection attempts started by the slot-boundary retry. */
  retries: number;
  disconnections: number;
  reconnections: number;
  /** Times onError was raised because every node stayed unreachable. */
  unreachableErrors: number;
}

export interface NodeStreamStatus extends SseStreamStats {
  state: SseState;
}

// The SSE stream's options, statistics, event and error types, and its defaults (sseStream.ts).

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 } as const;

export type SseState = "connecting" | "open" | "closed";
export type SseLogLevel = "debug" | "info" | "warn" | "error";
export type SseLog = (level: SseLogLevel, msg: string, ctx?: Record<string, unknown>) => void;

export interface SseEvent {
  /** The `event:` field; "message" when the server sent none (as EventSource does). */
  type: string;
  data: string;
  id?: string;
}

export interface SseStreamOptions {
  /** Full URL including the path and query, e.g. http://127.0.0.1:5052/eth/v1/events?topics=head */
  url: string;
  /** No response headers within this time -> the attempt is aborted and counts as a failure. */
  connectTimeoutMs?: number;
  /** An event (or an unterminated line) larger than this closes the connection. */
  maxEventBytes?: number;
  /** Exponential backoff with full jitter (floored at initialMs/2) between reconnects. */
  backoff?: { initialMs: number; maxMs: number };
  /** "auto" (default) reconnects after the backoff; "manual" waits for reconnect(). */
  reconnect?: "auto" | "manual";
  /** Optional: no bytes (events or keep-alive comments) for this long -> the connection is closed. Off by default. */
  idleTimeoutMs?: number;
  /**
   * Called for every event. Throw MalformedEventError to reject an event as malformed (counted,
   * logged, skipped; the connection lives on). Any other exception means the consumer is broken:
   * the connection is closed and counted as a reader error, and the normal reconnect path restarts it.
   */
  onEvent(event: SseEvent): void;
  onState?(state: SseState, reason?: string): void;
  log?: SseLog;
  /** Tests only. */
  fetchImpl?: typeof fetch;
  /** Tests only: the jitter source, [0, 1). */
  random?: () => number;
}

export interface SseStreamStats {
  /** Attempts that got a 2xx text/event-stream response. */
  connects: number;
  /** Open connections that ended for any reason other than stop(). */
  disconnects: number;
  /** Attempts that never opened: refused, timed out, non-2xx, wrong content type. */
  connectFailures: number;
  /** Events rejected as malformed (by the consumer, or unknown/invalid SSE fields). */
  malformed: number;
  /** Connections closed because an event or line passed maxEventBytes. */
  oversized: number;
  /** Connections closed because the consumer threw or the read loop failed unexpectedly. */
  readerErrors: number;
  /** Connections closed by the idle timeout. */
  idleTimeouts: number;
  /** Events the consumer accepted. */
  eventsReceived: number;
  bytesReceived: number;
}

/** Thrown by an onEvent consumer to reject one event without closing the stream. */
export class MalformedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedEventError";
  }
}

/** Statistics of a stream that has not connected yet. */
export function emptySseStats(): SseStreamStats {
  return {
    connects: 0,
    disconnects: 0,
    connectFailures: 0,
    malformed: 0,
    oversized: 0,
    readerErrors: 0,
    idleTimeouts: 0,
    eventsReceived: 0,
    bytesReceived: 0,
  };
}

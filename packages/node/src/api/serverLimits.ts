// Limits that keep a hostile or broken HTTP client from holding the node's sockets, memory or
// main thread. Node's own defaults (no connection cap, 60 s header timeout checked every 30 s,
// unlimited socket idle time under Fastify's connectionTimeout: 0) let 100 slow-header
// connections live for over a minute; every figure here is a named bound with its reason.
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** A client still sending its request headers after this long is a slow-loris: dropped. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Headers plus body: the largest body (768 KiB) takes well under a second on any real link. */
export const REQUEST_TIMEOUT_MS = 20_000;
/** How often Node checks the two timeouts above (its default of 30 s let them overrun by that much). */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
/** A socket with no traffic at all (connected, nothing sent) is closed after this long. */
export const IDLE_SOCKET_TIMEOUT_MS = 15_000;
/** Keep-alive between requests: a validator client polls at least once per 4 s slot. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * Open sockets at once (SSE streams included; they have their own smaller cap). A socket costs a
 * few KiB; 1024 leaves room for a flood of slow connections next to the real clients' requests,
 * while bounding memory. Connections past it are closed on accept and counted.
 */
export const MAX_CONNECTIONS = 1024;
/** Body limit of every route that does not set its own: the GET routes take no body. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;
/** Headers larger than this are refused (Node's default is 16 KiB; no API header needs 8). */
export const MAX_HEADER_BYTES = 8 * 1024;

export type ConnectionDropReason = "request_timeout" | "idle_timeout" | "max_connections" | "bad_request";
export type RequestRefusalReason = "rate_limited" | "unauthorized" | "verifier_busy";

/** Counters for the metrics: dropped connections, refused requests, API signature verdicts. */
export class ApiServerStats {
  readonly connectionsDropped: Record<ConnectionDropReason, number> = {
    request_timeout: 0,
    idle_timeout: 0,
    max_connections: 0,
    bad_request: 0,
  };
  readonly requestsRefused: Record<RequestRefusalReason, number> = {
    rate_limited: 0,
    unauthorized: 0,
    verifier_busy: 0,
  };
  readonly signatures = { valid: 0, invalid: 0 };
  openConnections = 0;
}

export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  checkIntervalMs: number;
  idleSocketTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  checkIntervalMs: CONNECTIONS_CHECK_INTERVAL_MS,
  idleSocketTimeoutMs: IDLE_SOCKET_TIMEOUT_MS,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  maxConnections: MAX_CONNECTIONS,
};

/** Node's http.Server options for the limits (passed as Fastify's `http` option). */
export function httpServerOptions(limits: ServerLimits): Record<string, number> {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: MAX_HEADER_BYTES,
  };
}

const CLIENT_ERROR_RESPONSES: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n",
  HPE_HEADER_OVERFLOW: "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n",
};
const BAD_REQUEST_RESPONSE = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

/**
 * Sockets closed per event-loop turn when many requests fail at once. Node's connection check
 * times out every slow-header socket in one synchronous loop: 500 of them answered and destroyed
 * in one go held the main thread for ~75 ms (profiled under the hostile-HTTP bench), long enough
 * to make the slot tick late. 32 closes cost a few milliseconds, and 500 still close within ~16
 * turns, far inside the next check (1 s).
 */
export const CLIENT_ERROR_CLOSES_PER_TURN = 32;

/**
 * Closes failed sockets a bounded batch per turn (on setImmediate), so a burst of timeouts cannot
 * stall the clock. Bounded by the connection cap: a socket beyond it is closed at once.
 */
export class SocketCloser {
  private readonly queue: { socket: Socket; response: string | null }[] = [];
  private readonly queued = new WeakSet<Socket>();
  private scheduled = false;
  private readonly maxQueued: number;
  private readonly perTurn: number;
  private readonly schedule: (fn: () => void) => void;

  constructor(
    maxQueued: number,
    perTurn = CLIENT_ERROR_CLOSES_PER_TURN,
    schedule: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {
    this.maxQueued = maxQueued;
    this.perTurn = perTurn;
    this.schedule = schedule;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Answers `socket` with `response` (when still writable) and destroys it, now or in a later turn. */
  close(socket: Socket, response: string | null): void {
    if (this.queued.has(socket)) return;
    if (this.queue.length >= this.maxQueued) {
      closeNow(socket, response);
      return;
    }
    this.queued.add(socket);
    this.queue.push({ socket, response });
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    for (const { socket, response } of this.queue.splice(0, this.perTurn)) closeNow(socket, response);
    if (this.queue.length > 0) {
      this.scheduled = true;
      this.schedule(() => this.drain());
    }
  }
}

function closeNow(socket: Socket, response: string | null): void {
  if (response !== null && socket.writable && !socket.writableEnded) socket.end(response);
  socket.destroy();
}

/**
 * Fastify's clientErrorHandler: a socket whose request timed out or did not parse is answered (when
 * still writable) and destroyed, and counted. Resets and aborts by the client are not its errors.
 */
export function clientErrorHandler(
  stats: ApiServerStats,
  closer: SocketCloser = new SocketCloser(MAX_CONNECTIONS),
): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === "ECONNRESET" || err.code === "EPIPE") {
      socket.destroy();
      return;
    }
    const timedOut = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    if (timedOut) stats.connectionsDropped.request_timeout++;
    else stats.connectionsDropped.bad_request++;
    closer.close(socket, CLIENT_ERROR_RESPONSES[err.code ?? ""] ?? BAD_REQUEST_RESPONSE);
  };
}

/**
 * After Fastify created the server: the connection cap, idle-socket drops and an error listener
 * (an error after listen, e.g. EMFILE on accept, is reported instead of crashing the node).
 */
export function installConnectionLimits(
  app: FastifyInstance,
  stats: ApiServerStats,
  maxConnections: number,
  onServerError: (err: Error) => void,
): void {
  const server = app.server;
  server.maxConnections = maxConnections;
  server.on("drop", () => {
    stats.connectionsDropped.max_connections++;
  });
  server.on("connection", (socket: Socket) => {
    stats.openConnections++;
    socket.once("close", () => {
      stats.openConnections--;
    });
  });
  // With a listener, Node leaves the idle socket to us: close and count it.
  server.on("timeout", (socket: Socket) => {
    stats.connectionsDropped.idle_timeout++;
    socket.destroy();
  });
  server.on("error", onServerError);
}

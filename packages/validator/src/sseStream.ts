// One server-sent-events connection over fetch() that survives its server: connect timeout,
// reconnects with jittered exponential backoff, a byte cap per event, and malformed events
// skipped (counted) without dropping the connection. The SSE wire format is parsed by
// eventsource-parser; the byte cap is enforced here, on raw bytes, before anything is decoded.
//
// Reconnect timing has two modes:
// - "auto" (default): the stream reconnects by itself after a backoff delay.
// - "manual": after a connection ends the stream stays closed until reconnect() is called. The
//   head monitor uses this to retry every dropped stream once per slot, on the slot boundary.
// In both modes the backoff attempt counter resets only after a connection that delivered at
// least one event, so an endpoint that accepts and closes at once can never drive a busy loop.
import { createParser, type EventSourceMessage, type ParseError } from "eventsource-parser";

import { EventSizeGuard } from "./eventSizeGuard.ts";
import { causeOf, checkedBackoff, errorText, jitteredBackoffMs, positive } from "./sseHelpers.ts";
import {
  DEFAULT_BACKOFF,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_EVENT_BYTES,
  emptySseStats,
  MalformedEventError,
  type SseEvent,
  type SseLogLevel,
  type SseState,
  type SseStreamOptions,
  type SseStreamStats,
} from "./sseTypes.ts";

export { EventSizeGuard } from "./eventSizeGuard.ts";
export * from "./sseTypes.ts";

/** How a connection attempt ended. */
interface AttemptResult {
  /** Delivered at least one accepted event: the backoff resets. */
  productive: boolean;
}

export class SseStream {
  readonly stats: SseStreamStats = emptySseStats();
  readonly url: string;
  private readonly connectTimeoutMs: number;
  private readonly maxEventBytes: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly mode: "auto" | "manual";
  private readonly idleTimeoutMs: number | undefined;
  private readonly options: SseStreamOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private currentState: SseState = "closed";
  private started = false;
  private stopped = false;
  /** The connect/read loop while it runs; undefined when idle (manual mode between attempts). */
  private loop: Promise<void> | undefined;
  private connection: AbortController | undefined;
  private wakeFromBackoff: (() => void) | undefined;
  /** Consecutive attempts without an accepted event; drives the backoff. */
  private failedAttempts = 0;

  constructor(options: SseStreamOptions) {
    this.options = options;
    this.url = options.url;
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs");
    this.maxEventBytes = positive(options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES, "maxEventBytes");
    this.backoff = checkedBackoff(options.backoff ?? DEFAULT_BACKOFF);
    this.mode = options.reconnect ?? "auto";
    this.idleTimeoutMs =
      options.idleTimeoutMs === undefined ? undefined : positive(options.idleTimeoutMs, "idleTimeoutMs");
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.random = options.random ?? Math.random;
  }

  get state(): SseState {
    return this.currentState;
  }

  /** True while a connection attempt, an open connection or a backoff wait is in progress. */
  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Consecutive connection attempts that delivered no event (what the backoff is based on). */
  get consecutiveFailures(): number {
    return this.failedAttempts;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.launch();
  }

  /**
   * Manual mode: starts one connection attempt now if the stream is idle. Returns false (and does
   * nothing) when it is already connecting/open, not started, or stopped. In auto mode it cuts a
   * pending backoff wait short.
   */
  reconnect(): boolean {
    if (!this.started || this.stopped) return false;
    if (this.loop === undefined) {
      this.launch();
      return true;
    }
    if (this.wakeFromBackoff !== undefined) {
      this.wakeFromBackoff();
      return true;
    }
    return false;
  }

  /** Closes the connection, cancels any backoff wait and resolves once the loop has exited. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.connection?.abort(new Error("stopped"));
    this.wakeFromBackoff?.();
    await this.loop;
    this.setState("closed", "stopped");
  }

  private launch(): void {
    const loop = this.supervise().catch((err: unknown) => {
      this.log("error", "event stream supervisor failed", { url: this.url, error: errorText(err) });
    });
    this.loop = loop;
    void loop.finally(() => {
      if (this.loop === loop) this.loop = undefined;
    });
  }

  /** Runs the loop; should it ever throw (a bug), counts and logs it and, in auto mode, starts it again. */
  private async supervise(): Promise<void> {
    for (;;) {
      try {
        await this.run();
        return;
      } catch (err) {
        this.stats.readerErrors++;
        this.failedAttempts++;
        this.log("error", "event stream loop crashed", { url: this.url, error: errorText(err) });
        this.setState("closed", `loop crashed: ${errorText(err)}`);
        if (this.stopped || this.mode === "manual") return;
        // No jitter here: the jitter source itself may be what failed.
        const cap = this.backoff.initialMs * 2 ** Math.min(this.failedAttempts, 30);
        await this.sleep(Math.min(this.backoff.maxMs, cap));
        if (this.stopped) return;
      }
    }
  }

  private async run(): Promise<void> {
    for (;;) {
      let result: AttemptResult = { productive: false };
      try {
        result = await this.attempt();
      } catch (err) {
        this.stats.readerErrors++;
        this.log("error", "event stream reader failed", { url: this.url, error: errorText(err) });
        this.setState("closed", `reader failed: ${errorText(err)}`);
      }
      this.failedAttempts = result.productive ? 0 : this.failedAttempts + 1;
      if (this.stopped || this.mode === "manual") return;
      const delayMs = this.backoffDelay();
      this.log("debug", "event stream reconnecting", {
        url: this.url,
        delayMs,
        failedAttempts: this.failedAttempts,
      });
      await this.sleep(delayMs);
      if (this.stopped) return;
    }
  }

  /**
   * Full jitter over min(maxMs, initialMs * 2^failures), floored at initialMs/2 so a run of small
   * random draws cannot turn into a burst of reconnects.
   */
  private backoffDelay(): number {
    return jitteredBackoffMs(this.failedAttempts, this.backoff, this.random());
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeFromBackoff = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeFromBackoff = wake;
    });
  }

  private async attempt(): Promise<AttemptResult> {
    const connection = new AbortController();
    this.connection = connection;
    this.setState("connecting");
    try {
      const response = await this.open(connection);
      if (response === undefined) return { productive: false };
      this.stats.connects++;
      this.setState("open");
      this.log("debug", "event stream open", { url: this.url });
      const { delivered, reason } = await this.read(response.body as ReadableStream<Uint8Array>, connection);
      if (!this.stopped) {
        this.stats.disconnects++;
        this.log(delivered > 0 ? "info" : "warn", "event stream closed", { url: this.url, reason, delivered });
      }
      this.setState("closed", this.stopped ? "stopped" : reason);
      return { productive: delivered > 0 };
    } finally {
      // Releases the socket whatever happened (a no-op when already aborted).
      connection.abort(new Error("connection finished"));
      if (this.connection === connection) this.connection = undefined;
    }
  }

  /** Sends the request; the response once headers arrived and look like an event stream, else undefined. */
  private async open(connection: AbortController): Promise<Response | undefined> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      connection.abort(new Error(`no response headers within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        signal: connection.signal,
        headers: { accept: "text/event-stream" },
      });
    } catch (err) {
      const reason = timedOut ? `connect timeout (${this.connectTimeoutMs} ms)` : errorText(causeOf(err));
      this.connectFailed(reason);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    const contentType = response.headers.get("content-type") ?? "";
    let problem: string | undefined;
    if (!response.ok) problem = `HTTP ${response.status}`;
    else if (!contentType.toLowerCase().startsWith("text/event-stream"))
      problem = `unexpected content type "${contentType.slice(0, 64)}"`;
    else if (response.body === null) problem = "response has no body";
    if (this.stopped) problem = "stopped";
    if (problem !== undefined) {
      response.body?.cancel().catch(() => {});
      this.connectFailed(problem);
      return undefined;
    }
    return response;
  }

  private connectFailed(reason: string): void {
    if (!this.stopped) {
      this.stats.connectFailures++;
      // The first failure of a run is worth a warning; the retries after it are not.
      this.log(this.failedAttempts === 0 ? "warn" : "debug", "event stream connect failed", {
        url: this.url,
        reason,
        failedAttempts: this.failedAttempts + 1,
      });
    }
    this.setState("closed", this.stopped ? "stopped" : reason);
  }

  /** Reads until the connection ends; returns why and how many events the consumer accepted. */
  private async read(
    body: ReadableStream<Uint8Array>,
    connection: AbortController,
  ): Promise<{ delivered: number; reason: string }> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const guard = new EventSizeGuard(this.maxEventBytes);
    let delivered = 0;
    let consumerFailure: unknown;
    let consumerFailed = false;
    let parserOverflow = false;
    const parser = createParser({
      // Belt and braces: the parser's own cap (in characters, never more than the bytes).
      maxBufferSize: this.maxEventBytes,
      onEvent: (message) => {
        if (consumerFailed) return;
        const outcome = this.deliver(message);
        if (outcome === "accepted") delivered++;
        else if (outcome !== "malformed") {
          consumerFailed = true;
          consumerFailure = outcome.error;
        }
      },
      onError: (err: ParseError) => {
        if (err.type === "max-buffer-size-exceeded") {
          parserOverflow = true;
          return;
        }
        this.stats.malformed++;
        this.log("warn", "malformed event stream line skipped", { url: this.url, error: err.message });
      },
    });
    let lastByteAt = Date.now();
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idle = false;
    if (this.idleTimeoutMs !== undefined) {
      const idleMs = this.idleTimeoutMs;
      // One timer per connection, re-armed lazily: it checks the last byte time instead of being
      // reset on every chunk.
      const check = () => {
        const quietMs = Date.now() - lastByteAt;
        if (quietMs >= idleMs) {
          idle = true;
          connection.abort(new Error("idle timeout"));
        } else idleTimer = setTimeout(check, idleMs - quietMs);
      };
      idleTimer = setTimeout(check, idleMs);
    }
    // Whoever aborts (stop(), the idle timer) also ends a pending read, even on a body that is
    // not tied to the fetch signal.
    const cancelRead = () => void reader.cancel().catch(() => {});
    connection.signal.addEventListener("abort", cancelRead, { once: true });
    const endedBecause = (err?: unknown): string => {
      if (this.stopped) return "stopped";
      if (idle) {
        this.stats.idleTimeouts++;
        return `idle timeout (${this.idleTimeoutMs} ms without data)`;
      }
      return err === undefined ? "server closed the stream" : `read failed: ${errorText(causeOf(err))}`;
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { delivered, reason: endedBecause() };
        lastByteAt = Date.now();
        this.stats.bytesReceived += value.byteLength;
        const overflowAt = guard.overflowAt(value);
        // Events completed before the oversized one in the same chunk are still delivered.
        const usable = overflowAt === -1 ? value : value.subarray(0, overflowAt);
        parser.feed(decoder.decode(usable, { stream: overflowAt === -1 }));
        if (consumerFailed) {
          this.stats.readerErrors++;
          this.log("error", "event consumer threw; closing the stream to restart it", {
            url: this.url,
            error: errorText(consumerFailure),
          });
          return { delivered, reason: `event handler failed: ${errorText(consumerFailure)}` };
        }
        if (overflowAt !== -1 || parserOverflow) return this.oversized(delivered);
      }
    } catch (err) {
      return { delivered, reason: endedBecause(err) };
    } finally {
      clearTimeout(idleTimer);
      connection.signal.removeEventListener("abort", cancelRead);
      cancelRead();
    }
  }

  private oversized(delivered: number): { delivered: number; reason: string } {
    this.stats.oversized++;
    this.log("warn", "event larger than the cap; closing the stream", {
      url: this.url,
      maxEventBytes: this.maxEventBytes,
    });
    return { delivered, reason: `event exceeded ${this.maxEventBytes} bytes` };
  }

  private deliver(message: EventSourceMessage): "accepted" | "malformed" | { error: unknown } {
    const event: SseEvent = { type: message.event ?? "message", data: message.data };
    if (message.id !== undefined) event.id = message.id;
    try {
      this.options.onEvent(event);
    } catch (err) {
      if (!(err instanceof MalformedEventError)) return { error: err };
      this.stats.malformed++;
      this.log("warn", "malformed event skipped", { url: this.url, type: event.type, error: err.message });
      return "malformed";
    }
    this.stats.eventsReceived++;
    return "accepted";
  }

  private setState(state: SseState, reason?: string): void {
    if (state === this.currentState && state === "closed") return;
    this.currentState = state;
    try {
      this.options.onState?.(state, reason);
    } catch (err) {
      this.log("error", "event stream onState callback threw", { url: this.url, error: errorText(err) });
    }
  }

  private log(level: SseLogLevel, msg: string, ctx?: Record<string, unknown>): void {
    try {
      this.options.log?.(level, msg, ctx);
    } catch {
      // A broken logger must not take the stream down.
    }
  }
}

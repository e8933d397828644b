// A small typed HTTP client for the node's API (in the spirit of @lodestar/api's client): one base
// URL, a deadline on every request, a capped response body, and one error type whose kind says
// what went wrong (timeout, network, an HTTP error with the route's {code, message}, or an
// answer that does not decode). Routes and their codecs come from routes.ts.
import type { HttpMethod, Route } from "./route.ts";

export type ApiErrorKind = "timeout" | "network" | "http" | "decode";

export class ApiClientError extends Error {
  readonly kind: ApiErrorKind;
  /** Base URL of the node that answered (or did not). */
  readonly url: string;
  /** HTTP status for kind "http". */
  readonly status: number | undefined;
  /** The error body's `code` and `message` for kind "http", when the node sent them. */
  readonly code: number | undefined;
  readonly apiMessage: string | undefined;
  constructor(
    kind: ApiErrorKind,
    url: string,
    message: string,
    detail: { status?: number; code?: number; apiMessage?: string } = {},
  ) {
    super(message);
    this.name = "ApiClientError";
    this.kind = kind;
    this.url = url;
    this.status = detail.status;
    this.code = detail.code;
    this.apiMessage = detail.apiMessage;
  }
}

/** A response body larger than this is refused (a block with 8 aggregates is a few KB). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** How much of a node's error message goes into ours: enough to read, not a flood. */
const ERROR_MESSAGE_CHARS = 300;

export interface ApiClientOptions {
  /** The node's API origin, e.g. http://127.0.0.1:5100 (no trailing slash). */
  baseUrl: string;
  /** Deadline of one request unless the call gives its own. */
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Bearer token for a node whose validator routes need one (its --api-token-file). */
  token?: string;
  maxResponseBytes?: number;
}

export interface RawAnswer {
  status: number;
  /** The parsed JSON body; null for an empty one. */
  json: unknown;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly maxResponseBytes: number;

  constructor(o: ApiClientOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = o.timeoutMs;
    this.fetchImpl = o.fetchImpl ?? fetch;
    this.headers = o.token === undefined ? {} : { authorization: `Bearer ${o.token}` };
    this.maxResponseBytes = o.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  }

  /** One typed call: `route`'s request out, its decoded response back, or an ApiClientError. */
  async call<Req, Res>(route: Route<Req, Res>, req: Req, timeoutMs = this.timeoutMs): Promise<Res> {
    const path = route.url(req);
    const answer = await this.request(route.method, path, route.body?.(req), timeoutMs, route.answerStatuses);
    try {
      return route.decode(answer.json);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ApiClientError("decode", this.baseUrl, `${route.method} ${path}: ${reason}`);
    }
  }

  /**
   * A request by method and path, for routes without a definition. Any status outside 2xx (and
   * `answerStatuses`) is an ApiClientError of kind "http".
   */
  async request(
    method: HttpMethod,
    path: string,
    body?: unknown,
    timeoutMs = this.timeoutMs,
    answerStatuses: readonly number[] = [],
  ): Promise<RawAnswer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const oversize = new AbortController();
    const signal = AbortSignal.any([timeout, oversize.signal]);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        signal,
        headers: {
          ...this.headers,
          ...(body === undefined ? { accept: "application/json" } : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      text = await this.readCapped(res, `${method} ${path}`, () => oversize.abort());
    } catch (err) {
      if (err instanceof ApiClientError) throw err;
      if (signal.aborted) {
        throw new ApiClientError("timeout", this.baseUrl, `${method} ${path}: no answer within ${timeoutMs} ms`);
      }
      const cause = (err as { cause?: { code?: unknown } }).cause?.code;
      const reason = cause ?? (err instanceof Error ? err.message : String(err));
      throw new ApiClientError("network", this.baseUrl, `${method} ${path}: ${reason}`);
    }
    const answered = res.ok || answerStatuses.includes(res.status);
    let json: unknown = null;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        if (answered) throw new ApiClientError("decode", this.baseUrl, `${method} ${path}: response is not JSON`);
      }
    }
    if (!answered) throw this.httpError(method, path, res.status, json);
    return { status: res.status, json };
  }

  /** Beacon-API error bodies are {code, message}; both are kept when the node sent them. */
  private httpError(method: string, path: string, status: number, json: unknown): ApiClientError {
    const body = (typeof json === "object" && json !== null ? json : {}) as { code?: unknown; message?: unknown };
    const apiMessage = typeof body.message === "string" ? body.message.slice(0, ERROR_MESSAGE_CHARS) : undefined;
    const code = typeof body.code === "number" ? body.code : undefined;
    return new ApiClientError(
      "http",
      this.baseUrl,
      `${method} ${path}: HTTP ${status}${apiMessage === undefined ? "" : ` ${apiMessage}`}`,
      { status, code, apiMessage },
    );
  }

  /** Reads the body up to the cap; past it, `abort` tears the connection down (no draining). */
  private async readCapped(res: Response, what: string, abort: () => void): Promise<string> {
    const cap = this.maxResponseBytes;
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > cap) {
      abort();
      throw new ApiClientError("decode", this.baseUrl, `${what}: response of ${declared} bytes exceeds ${cap}`);
    }
    if (res.body === null) return "";
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > cap) {
        abort();
        throw new ApiClientError("decode", this.baseUrl, `${what}: response exceeds ${cap} bytes`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
}

// The validator client's beacon nodes: one HTTP client per URL (timeouts, typed errors, an error
// counter) and a ranking used for every call: reachable and synced first, then closest to the
// newest head any node reports, then fewest consecutive errors, then the configured order. A
// call that fails on one node is retried on the next in rank order.

import { VALIDATOR_ROUTES } from "@metronome/api";
import { assertFetchableUrl } from "@metronome/common";

export type BeaconNodeErrorKind = "timeout" | "network" | "http" | "decode";

export class BeaconNodeError extends Error {
  readonly kind: BeaconNodeErrorKind;
  readonly url: string;
  /** HTTP status for kind "http". */
  readonly status: number | undefined;
  constructor(kind: BeaconNodeErrorKind, url: string, message: string, status?: number) {
    super(message);
    this.name = "BeaconNodeError";
    this.kind = kind;
    this.url = url;
    this.status = status;
  }
}

export class AllBeaconNodesFailedError extends Error {
  readonly errors: BeaconNodeError[];
  constructor(what: string, errors: BeaconNodeError[]) {
    super(
      errors.length === 0
        ? `${what}: no beacon node configured`
        : `${what} failed on every beacon node: ${errors.map((e) => `${e.url}: ${e.message}`).join("; ")}`,
    );
    this.name = "AllBeaconNodesFailedError";
    this.errors = errors;
  }
}

/** A response body larger than this is refused (a block with 8 aggregates is a few KB). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
export const MAX_BEACON_NODES = 16;

/** Normalizes and validates a beacon node URL: http(s), no credentials, query or fragment. */
export function normalizeBeaconNodeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`"${raw.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`${url.protocol} URLs are not supported: ${raw}`);
  if (url.username !== "" || url.password !== "")
    throw new Error(`credentials in a beacon node URL are not supported: ${url.host}`);
  if (url.search !== "" || url.hash !== "") throw new Error(`a beacon node URL takes no query or fragment: ${raw}`);
  assertFetchableUrl(url.href, "beacon node URL");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** Validates a list of URLs: 1..MAX_BEACON_NODES, each valid, no duplicates. Throws with a clear message. */
export function normalizeBeaconNodeUrls(raw: readonly string[]): string[] {
  if (raw.length === 0) throw new Error("at least one beacon node URL is needed");
  if (raw.length > MAX_BEACON_NODES) throw new Error(`at most ${MAX_BEACON_NODES} beacon nodes`);
  const urls = raw.map(normalizeBeaconNodeUrl);
  const dup = urls.find((u, i) => urls.indexOf(u) !== i);
  if (dup !== undefined) throw new Error(`${dup} is listed twice`);
  return urls;
}

/** Reads the body up to the cap; past it, `abort` tears the connection down (no draining). */
async function readCapped(res: Response, url: string, abort: () => void): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_RESPONSE_BYTES) {
    abort();
    throw new BeaconNodeError("decode", url, `response of ${declared} bytes exceeds ${MAX_RESPONSE_BYTES}`);
  }
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_RESPONSE_BYTES) {
      abort();
      throw new BeaconNodeError("decode", url, `response exceeds ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface BeaconNodeClientOptions {
  url: string;
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Called on every failed request (metrics). */
  onError?: (err: BeaconNodeError) => void;
  /** Bearer token for a node whose validator routes need one (bound off loopback). */
  token?: string;
}

/** One beacon node's HTTP API. Every request has a deadline; every failure is a BeaconNodeError. */
export class BeaconNodeClient {
  readonly url: string;
  readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly onError: ((err: BeaconNodeError) => void) | undefined;
  private readonly authorization: Record<string, string>;
  requestErrors = 0;
  consecutiveErrors = 0;

  constructor(o: BeaconNodeClientOptions) {
    this.url = o.url;
    this.timeoutMs = o.timeoutMs;
    this.fetchImpl = o.fetchImpl ?? fetch;
    this.onError = o.onError;
    this.authorization = o.token === undefined ? {} : { authorization: `Bearer ${o.token}` };
  }

  get(path: string, timeoutMs = this.timeoutMs): Promise<unknown> {
    return this.request("GET", path, undefined, timeoutMs);
  }

  post(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<unknown> {
    return this.request("POST", path, body, timeoutMs);
  }

  private async request(method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    try {
      const result = await this.send(method, path, body, timeoutMs);
      this.consecutiveErrors = 0;
      return result;
    } catch (err) {
      const error =
        err instanceof BeaconNodeError
          ? err
          : new BeaconNodeError("network", this.url, `${method} ${path}: ${String(err)}`);
      this.requestErrors++;
      this.consecutiveErrors++;
      this.onError?.(error);
      throw error;
    }
  }

  private async send(method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const oversize = new AbortController();
    const signal = AbortSignal.any([timeout, oversize.signal]);
    let text: string;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}${path}`, {
        method,
        signal,
        headers: {
          ...this.authorization,
          ...(body === undefined ? { accept: "application/json" } : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      text = await readCapped(res, this.url, () => oversize.abort());
    } catch (err) {
      if (err instanceof BeaconNodeError) throw err;
      if (signal.aborted)
        throw new BeaconNodeError("timeout", this.url, `${method} ${path}: no answer within ${timeoutMs} ms`);
      const cause = (err as { cause?: { code?: unknown } }).cause?.code;
      throw new BeaconNodeError(
        "network",
        this.url,
        `${method} ${path}: ${cause ?? (err instanceof Error ? err.message : String(err))}`,
      );
    }
    let json: unknown = null;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.ok) throw new BeaconNodeError("decode", this.url, `${method} ${path}: response is not JSON`);
      }
    }
    if (!res.ok) {
      const message = (json as { message?: unknown } | null)?.message;
      throw new BeaconNodeError(
        "http",
        this.url,
        `${method} ${path}: HTTP ${res.status}${typeof message === "string" ? ` ${message.slice(0, 300)}` : ""}`,
        res.status,
      );
    }
    return json;
  }
}

export interface NodeStatus {
  /** Whether the last status poll got an answer. Unknown (never polled) counts as reachable. */
  reachable: boolean;
  synced: boolean | null;
  /** Newest head slot seen: from the syncing route or the head stream, whichever is newer. */
  headSlot: number | null;
}

export interface BeaconNodesOptions {
  urls: string[];
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  onRequestError?: (err: BeaconNodeError) => void;
  /** Bearer token sent to every node (their --api-token-file). */
  token?: string;
}

export interface RankedNode {
  client: BeaconNodeClient;
  status: NodeStatus;
}

/** The node list, its ranking, and calls that fall back in rank order. */
export class BeaconNodes {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly onRequestError: ((err: BeaconNodeError) => void) | undefined;
  private readonly token: string | undefined;
  private nodes: RankedNode[] = [];

  constructor(o: BeaconNodesOptions) {
    this.timeoutMs = o.timeoutMs;
    this.fetchImpl = o.fetchImpl;
    this.onRequestError = o.onRequestError;
    this.token = o.token;
    this.replaceUrls(o.urls);
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.client.url);
  }

  /** Replaces the list; a URL kept from the old list keeps its client and status. */
  replaceUrls(urls: readonly string[]): void {
    const normalized = normalizeBeaconNodeUrls(urls);
    const old = new Map(this.nodes.map((n) => [n.client.url, n]));
    this.nodes = normalized.map(
      (url) =>
        old.get(url) ?? {
          client: new BeaconNodeClient({
            url,
            timeoutMs: this.timeoutMs,
            fetchImpl: this.fetchImpl,
            onError: this.onRequestError,
            token: this.token,
          }),
          status: { reachable: true, synced: null, headSlot: null },
        },
    );
  }

  status(url: string): NodeStatus | undefined {
    return this.nodes.find((n) => n.client.url === url)?.status;
  }

  /** A head seen on `url`'s event stream. */
  noteHead(url: string, slot: number): void {
    const node = this.nodes.find((n) => n.client.url === url);
    if (node === undefined) return;
    node.status.reachable = true;
    node.status.headSlot = Math.max(node.status.headSlot ?? 0, slot);
  }

  /** Best first. Ties keep the configured order (the sort is stable). */
  ranked(): RankedNode[] {
    const bestHead = Math.max(0, ...this.nodes.map((n) => n.status.headSlot ?? 0));
    const score = (n: RankedNode): number[] => [
      n.status.reachable ? 0 : 1,
      n.status.synced === false ? 1 : 0,
      bestHead - (n.status.headSlot ?? 0),
      Math.min(n.client.consecutiveErrors, 3),
    ];
    return [...this.nodes].sort((a, b) => {
      const sa = score(a);
      const sb = score(b);
      for (let i = 0; i < sa.length; i++) {
        const d = (sa[i] as number) - (sb[i] as number);
        if (d !== 0) return d;
      }
      return 0;
    });
  }

  /** Polls every node's /eth/v1/node/syncing at once; a node that does not answer is unreachable. */
  async refreshStatus(timeoutMs = this.timeoutMs): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        try {
          const body = (await node.client.get(VALIDATOR_ROUTES.syncing, timeoutMs)) as {
            data?: { head_slot?: unknown; is_syncing?: unknown };
          };
          const head = Number(body?.data?.head_slot);
          node.status.reachable = true;
          node.status.synced = body?.data?.is_syncing === false;
          if (Number.isSafeInteger(head) && head >= 0) node.status.headSlot = Math.max(node.status.headSlot ?? 0, head);
        } catch {
          node.status.reachable = false;
        }
      }),
    );
  }

  /**
   * Runs `call` on the best node, then on each next one in rank order until one succeeds.
   * `only` restricts the call to one URL; `prefer` tries that URL first. Only BeaconNodeErrors
   * fall through to the next node; anything else is a bug and is thrown.
   */
  async first<T>(
    what: string,
    call: (client: BeaconNodeClient) => Promise<T>,
    opts: { only?: string; prefer?: string } = {},
  ): Promise<{ value: T; url: string }> {
    const errors: BeaconNodeError[] = [];
    const ranked = this.ranked().filter((n) => opts.only === undefined || n.client.url === opts.only);
    const preferred = ranked.filter((n) => n.client.url === opts.prefer);
    const order = [...preferred, ...ranked.filter((n) => n.client.url !== opts.prefer)];
    for (const { client, status } of order) {
      try {
        const value = await call(client);
        status.reachable = true;
        return { value, url: client.url };
      } catch (err) {
        if (!(err instanceof BeaconNodeError)) throw err;
        if (err.kind !== "http") status.reachable = false;
        errors.push(err);
      }
    }
    throw new AllBeaconNodesFailedError(what, errors);
  }
}

// The validator client's beacon nodes: one HTTP client per URL (timeouts, typed errors, an error
// counter) and a ranking used for every call: reachable and synced first, then closest to the
// newest head any node reports, then fewest consecutive errors, then the configured order. A
// call that fails on one node is retried on the next in rank order.

import { ApiClient, ApiClientError as BeaconNodeError, type Route, syncingRoute } from "@metronome/api";
import { assertFetchableUrl } from "@metronome/common";

/** A failed beacon node request: the API client's typed error (kind, status, the node's {code, message}). */
export { ApiClientError as BeaconNodeError, type ApiErrorKind as BeaconNodeErrorKind } from "@metronome/api";

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
export { MAX_RESPONSE_BYTES } from "@metronome/api";
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

export interface BeaconNodeClientOptions {
  url: string;
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Called on every failed request (metrics). */
  onError?: (err: BeaconNodeError) => void;
  /** Bearer token for a node whose validator routes need one (bound off loopback). */
  token?: string;
}

/**
 * One beacon node's HTTP API: the shared ApiClient (deadlines, capped bodies, typed errors) plus
 * the error counters the ranking reads. Every failure is a BeaconNodeError.
 */
export class BeaconNodeClient {
  readonly url: string;
  readonly timeoutMs: number;
  private readonly api: ApiClient;
  private readonly onError: ((err: BeaconNodeError) => void) | undefined;
  requestErrors = 0;
  consecutiveErrors = 0;

  constructor(o: BeaconNodeClientOptions) {
    this.url = o.url;
    this.timeoutMs = o.timeoutMs;
    this.api = new ApiClient({ baseUrl: o.url, timeoutMs: o.timeoutMs, fetchImpl: o.fetchImpl, token: o.token });
    this.onError = o.onError;
  }

  /** A typed call of one of the API's routes (packages/api routes.ts). */
  call<Req, Res>(route: Route<Req, Res>, req: Req, timeoutMs = this.timeoutMs): Promise<Res> {
    return this.counted(`${route.method} ${route.path}`, () => this.api.call(route, req, timeoutMs));
  }

  /** GET a path without a route definition; resolves to the JSON body. */
  get(path: string, timeoutMs = this.timeoutMs): Promise<unknown> {
    return this.counted(`GET ${path}`, async () => (await this.api.request("GET", path, undefined, timeoutMs)).json);
  }

  /** POST a JSON body to a path without a route definition; resolves to the JSON body. */
  post(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<unknown> {
    return this.counted(`POST ${path}`, async () => (await this.api.request("POST", path, body, timeoutMs)).json);
  }

  private async counted<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.consecutiveErrors = 0;
      return result;
    } catch (err) {
      const error =
        err instanceof BeaconNodeError ? err : new BeaconNodeError("network", this.url, `${what}: ${String(err)}`);
      this.requestErrors++;
      this.consecutiveErrors++;
      this.onError?.(error);
      throw error;
    }
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
          const syncing = await node.client.call(syncingRoute, undefined, timeoutMs);
          node.status.reachable = true;
          node.status.synced = !syncing.isSyncing;
          node.status.headSlot = Math.max(node.status.headSlot ?? 0, syncing.headSlot);
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

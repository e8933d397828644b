// The validator client's own HTTP API: read and replace the beacon node list at run time.
// Every route needs `Authorization: Bearer <token>`, the token read from a file (generated with
// 0600 permissions in the data dir when none is given). Errors are {code, message}, by the node's own handlers.

import { ApiError, bearerChecker, installErrorHandlers } from "@metronome/api";
import Fastify, { type FastifyInstance } from "fastify";
import { MAX_BEACON_NODES, normalizeBeaconNodeUrls } from "./beaconNodes.ts";

export { loadOrCreateToken, TOKEN_FILE_NAME } from "@metronome/api";

export interface BeaconNodeView {
  url: string;
  rank: number;
  reachable: boolean;
  synced: boolean | null;
  headSlot: number | null;
  lagging: boolean;
  requestErrors: number;
  head: { slot: number; root: string; receivedAtMs: number; delayMs: number } | null;
}

export interface AdminApiOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  listNodes(): BeaconNodeView[];
  /** Replaces the node list (URLs already validated and normalized) and restarts the monitor. */
  replaceNodes(urls: string[]): Promise<void>;
}

function nodeJson(n: BeaconNodeView): Record<string, unknown> {
  return {
    url: n.url,
    rank: n.rank,
    reachable: n.reachable,
    synced: n.synced,
    head_slot: n.headSlot === null ? null : String(n.headSlot),
    lagging: n.lagging,
    request_errors: String(n.requestErrors),
    head:
      n.head === null
        ? null
        : {
            slot: String(n.head.slot),
            root: n.head.root,
            received_at_ms: String(n.head.receivedAtMs),
            delay_ms: String(n.head.delayMs),
          },
  };
}

function parseUrlsBody(body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'Expected a JSON object {"urls": ["http://host:port", ...]}');
  }
  const { urls, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new ApiError(400, `Unknown field: ${extra[0]?.slice(0, 64)}`);
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== "string")) {
    throw new ApiError(400, "urls: expected a list of URL strings");
  }
  if (urls.length > MAX_BEACON_NODES) throw new ApiError(400, `urls: at most ${MAX_BEACON_NODES} beacon nodes`);
  try {
    return normalizeBeaconNodeUrls(urls as string[]);
  } catch (err) {
    throw new ApiError(400, `urls: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function startAdminApi(o: AdminApiOptions): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const authorized = bearerChecker(o.token);

  installErrorHandlers(app);
  // Authentication runs before the body is parsed: an unauthenticated caller gets nothing else.
  app.addHook("onRequest", async (req) => {
    if (!authorized(req.headers.authorization)) {
      throw new ApiError(401, "Missing or wrong bearer token");
    }
  });

  app.get("/vc/v0/beacon_nodes", async () => ({ data: o.listNodes().map(nodeJson) }));

  app.post<{ Body: unknown }>("/vc/v0/beacon_nodes", async (req) => {
    const urls = parseUrlsBody(req.body);
    await o.replaceNodes(urls);
    return { data: o.listNodes().map(nodeJson) };
  });

  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : o.port;
  return { app, port };
}

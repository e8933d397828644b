// The node's HTTP API (PROTOCOL.md section 7): Beacon-API shaped routes under /eth/v1 and lean
// routes under /lean/v0. Integers are quoted decimal strings and bytes 0x-hex on Beacon routes.

import { ApiError, headerRoute, healthRoute, installErrorHandlers, syncingRoute } from "@metronome/api";
import { toHex } from "@metronome/chain";
import Fastify, { type FastifyInstance } from "fastify";
import type { ApiBackend } from "./backend.ts";
import { parseBlockId } from "./blockId.ts";
import {
  ApiServerStats,
  clientErrorHandler,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_SERVER_LIMITS,
  httpServerOptions,
  installConnectionLimits,
  type ServerLimits,
  SocketCloser,
} from "./serverLimits.ts";

export interface ApiServerOptions {
  host: string;
  port: number;
  backend: ApiBackend;
  /** Extra routes (events stream, validator routes) registered by other modules. */
  plugins?: ((app: FastifyInstance) => void | Promise<void>)[];
  /** Counters of dropped connections and refused requests (shared with the plugins). */
  stats?: ApiServerStats;
  /** A server error after listen (e.g. EMFILE on accept); the node logs it and keeps running. */
  onServerError?: (err: Error) => void;
  /** Timeouts and the connection cap; the defaults are the documented production values. */
  limits?: Partial<ServerLimits>;
}

export interface ApiServer {
  app: FastifyInstance;
  port: number;
  stats: ApiServerStats;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const stats = options.stats ?? new ApiServerStats();
  const limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const app = Fastify({
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    connectionTimeout: limits.idleSocketTimeoutMs,
    http: httpServerOptions(limits),
    clientErrorHandler: clientErrorHandler(stats, new SocketCloser(limits.maxConnections)),
  });
  installConnectionLimits(app, stats, limits.maxConnections, options.onServerError ?? (() => {}));
  const { backend } = options;

  installErrorHandlers(app);

  app.get(healthRoute.path, async (_req, reply) => {
    const health = backend.health();
    return reply.code(health.status === "healthy" ? 200 : 503).send(healthRoute.encode(health));
  });

  app.get<{ Querystring: { syncing_status?: string } }>("/eth/v1/node/health", async (req, reply) => {
    const state = backend.syncState();
    let code = state === "SYNCED" ? 200 : state === "SYNCING" ? 206 : 503;
    if (code === 206 && req.query.syncing_status !== undefined) {
      const override = Number(req.query.syncing_status);
      if (!Number.isInteger(override) || override < 100 || override > 599) {
        throw new ApiError(400, "Invalid syncing_status: expected an HTTP status code");
      }
      code = override;
    }
    return reply.code(code).send();
  });

  app.get(syncingRoute.path, async () => {
    const head = backend.headSlot();
    const distance = Math.max(0, backend.currentSlot() - head);
    return syncingRoute.encode({
      headSlot: head,
      syncDistance: distance,
      isSyncing: backend.syncState() !== "SYNCED",
    });
  });

  app.get("/eth/v1/node/identity", async () => ({
    data: {
      peer_id: backend.peerId(),
      enr: "",
      p2p_addresses: backend.listenAddresses(),
      discovery_addresses: [],
      metadata: { seq_number: "0", attnets: "0x0000000000000000", syncnets: "0x00" },
    },
  }));

  app.get("/eth/v1/node/peers", async () => {
    const peers = backend.peers().map((p) => ({
      peer_id: p.peerId,
      enr: null,
      last_seen_p2p_address: p.address,
      state: "connected",
      direction: p.direction,
    }));
    return { data: peers, meta: { count: peers.length } };
  });

  app.get("/eth/v1/node/peer_count", async () => {
    const peers = backend.peers().length;
    return {
      data: { disconnected: "0", connecting: "0", connected: String(peers), disconnecting: "0" },
    };
  });

  app.get("/eth/v1/beacon/genesis", async () => {
    const genesis = backend.genesis();
    return {
      data: {
        genesis_time: String(genesis.genesisTime),
        genesis_validators_root: toHex(genesis.genesisValidatorsRoot),
        genesis_fork_version: toHex(genesis.genesisForkVersion),
      },
    };
  });

  app.get("/eth/v1/node/version", async () => ({ data: { version: `Metronome/${backend.version()}` } }));

  app.get<{ Params: { blockId: string } }>(headerRoute.path, async (req) => {
    const found = await backend.header(parseBlockId(req.params.blockId));
    if (found === null) throw new ApiError(404, "Block not found");
    const finalizedSlot = backend.finalized().slot;
    return headerRoute.encode({
      root: found.root,
      canonical: found.canonical,
      finalized: found.canonical && found.header.slot <= finalizedSlot,
      header: found.header,
      signature: found.signature,
    });
  });

  for (const plugin of options.plugins ?? []) await plugin(app);

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return { app, port, stats };
}

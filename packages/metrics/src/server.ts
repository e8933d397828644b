// A minimal Prometheus scrape endpoint on node:http: GET /metrics and nothing else. A failing
// collector answers 500 for that scrape; it never takes the node down.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the server needs from a registry (a prom-client Registry fits). */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface StartMetricsServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  registry: MetricsSource;
}

export interface MetricsServer {
  /** The bound port (the chosen one when 0 was asked). */
  readonly port: number;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/** Scrapers are few; anything beyond this is refused at accept time. */
export const MAX_METRICS_CONNECTIONS = 32;

export async function startMetricsServer(opts: StartMetricsServerOptions): Promise<MetricsServer> {
  const { registry } = opts;
  const host = opts.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    handle(registry, req, res).catch(() => {
      // handle() already answers every error; this only guards against a throw while answering.
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.maxConnections = MAX_METRICS_CONNECTIONS;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(opts.port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  // After start-up a server error (e.g. EMFILE on accept) must not become an uncaught exception.
  server.on("error", () => {});

  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(registry: MetricsSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "").split("?")[0];
  if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("not found\n");
    return;
  }
  let body: string;
  try {
    body = await registry.metrics();
  } catch (err) {
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end(`metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return;
  }
  res.writeHead(200, { "content-type": registry.contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

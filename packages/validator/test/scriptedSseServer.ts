// A scripted event-stream endpoint on 127.0.0.1 for the SSE client tests: it can serve a normal
// stream, reset every TCP connection, accept and never answer, answer with an error, refuse
// connections altogether (down/up on the same port), or run a per-request script.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type Behaviour =
  /** 200 text/event-stream, kept open; send() writes to every open stream. */
  | "sse"
  /** Destroys the TCP connection as soon as it is accepted. */
  | "reset"
  /** Reads the request and never sends a byte. */
  | "hang"
  /** Hands the request to `script`. */
  | "script";

export type Script = (req: IncomingMessage, res: ServerResponse, requestIndex: number) => void;

export class ScriptedSseServer {
  behaviour: Behaviour;
  script: Script | undefined;
  /** TCP connections accepted. */
  connections = 0;
  /** HTTP requests received. */
  requests = 0;
  readonly subscribers = new Set<ServerResponse>();
  readonly paths: string[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private listening = false;
  port = 0;

  private constructor(behaviour: Behaviour, script?: Script) {
    this.behaviour = behaviour;
    this.script = script;
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on("connection", (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => {});
      if (this.behaviour === "reset") socket.destroy();
    });
  }

  static async start(behaviour: Behaviour = "sse", script?: Script): Promise<ScriptedSseServer> {
    const server = new ScriptedSseServer(behaviour, script);
    await server.up();
    return server;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get eventsUrl(): string {
    return `${this.base}/eth/v1/events?topics=head`;
  }

  /** Listens (again) on the same port as before, or a fresh one the first time. */
  async up(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.listening = true;
    const address = this.server.address();
    if (address !== null && typeof address === "object") this.port = address.port;
  }

  /** Stops listening and cuts every connection: new attempts are refused (ECONNREFUSED). */
  async down(): Promise<void> {
    this.dropSubscribers();
    for (const socket of this.sockets) socket.destroy();
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.down();
  }

  /** Ends every open event stream abruptly (as a crashing node would). */
  dropSubscribers(): void {
    for (const res of this.subscribers) res.destroy();
    this.subscribers.clear();
  }

  /** Writes raw SSE text to every open stream. */
  send(raw: string): void {
    for (const res of this.subscribers) res.write(raw);
  }

  sendEvent(type: string, data: unknown): void {
    this.send(`event: ${type}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  }

  sendHead(slot: number, root: string): void {
    this.sendEvent("head", { slot: String(slot), block: root, state: root, execution_optimistic: false });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const index = this.requests++;
    this.paths.push(req.url ?? "");
    res.on("error", () => {});
    switch (this.behaviour) {
      case "hang":
      case "reset":
        return;
      case "script":
        this.script?.(req, res, index);
        return;
      case "sse":
        openStream(res);
        this.subscribers.add(res);
        res.on("close", () => this.subscribers.delete(res));
        return;
    }
  }
}

export function openStream(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
}

/** A 0x root whose bytes are all `fill`. */
export function rootOf(fill: number): string {
  return `0x${fill.toString(16).padStart(2, "0").repeat(32)}`;
}

/** Polls `check` until truthy or the deadline passes (then throws naming `what`). */
export async function waitFor<T>(
  check: () => T | undefined | null | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface LogLine {
  level: string;
  msg: string;
  ctx: Record<string, unknown> | undefined;
}

export function logCollector(): {
  lines: LogLine[];
  log: (level: "debug" | "info" | "warn" | "error", msg: string, ctx?: Record<string, unknown>) => void;
} {
  const lines: LogLine[] = [];
  return { lines, log: (level, msg, ctx) => lines.push({ level, msg, ctx }) };
}

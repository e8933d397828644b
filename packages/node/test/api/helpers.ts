// Shared test plumbing: an API server with a fake backend, an SSE reader over fetch(), polling.
import type { FastifyInstance } from "fastify";
// Polling is the validator tests' waitFor, re-exported: the node's tests may import the validator
// package's, never the other way round.
import { waitFor } from "../../../validator/test/scriptedSseServer.ts";
import type { ApiBackend } from "../../src/api/backend.ts";
import { startApiServer } from "../../src/api/server.ts";

export { waitFor };

export function fakeApiBackend(): ApiBackend {
  const zero = { root: new Uint8Array(32), slot: 0 };
  return {
    health: () => ({
      status: "healthy",
      reasons: [],
      node_id: 0,
      peer_id: "peer",
      fork_digest: "00000000",
      current_slot: 0,
      head_slot: 0,
      head_root: "0x",
      justified_slot: 0,
      justified_root: "0x",
      finalized_slot: 0,
      finalized_root: "0x",
      peers: 1,
      sync_state: "SYNCED",
      ticks: 0,
      last_tick_age_ms: 0,
      intervals_missed: 0,
      drops: {},
    }),
    syncState: () => "SYNCED",
    headSlot: () => 0,
    currentSlot: () => 0,
    peerId: () => "peer",
    listenAddresses: () => [],
    peers: () => [],
    version: () => "test",
    header: async () => null,
    justified: () => zero,
    finalized: () => zero,
    genesis: () => ({
      genesisTime: 1_700_000_000,
      genesisValidatorsRoot: new Uint8Array(32).fill(7),
      genesisForkVersion: new Uint8Array([1, 2, 3, 4]),
    }),
  };
}

export interface TestServer {
  app: FastifyInstance;
  base: string;
  port: number;
  close(): Promise<void>;
}

export async function startTestServer(
  plugins: ((app: FastifyInstance) => void | Promise<void>)[],
): Promise<TestServer> {
  const { app, port } = await startApiServer({ host: "127.0.0.1", port: 0, backend: fakeApiBackend(), plugins });
  return { app, port, base: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface SseFrame {
  event: string | null;
  data: string | null;
  comments: string[];
  retry: string | null;
}

/** Splits an SSE byte stream into frames (blank-line separated), per the WHATWG field rules. */
export class SseParser {
  private buffer = "";
  readonly frames: SseFrame[] = [];

  push(text: string): void {
    this.buffer += text;
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end < 0) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: SseFrame = { event: null, data: null, comments: [], retry: null };
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) frame.comments.push(line.slice(1).trim());
        else if (line.startsWith("event: ")) frame.event = line.slice(7);
        else if (line.startsWith("data: "))
          frame.data = frame.data === null ? line.slice(6) : `${frame.data}\n${line.slice(6)}`;
        else if (line.startsWith("retry: ")) frame.retry = line.slice(7);
      }
      this.frames.push(frame);
    }
  }
}

export interface SseStream {
  status: number;
  contentType: string | null;
  parser: SseParser;
  /** Resolves with the first not-yet-consumed event frame of `topic`. */
  next(topic: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

export async function openSse(url: string): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const parser = new SseParser();
  const consumed = new Set<SseFrame>();
  if (res.body !== null) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          parser.push(decoder.decode(value, { stream: true }));
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    parser,
    async next(topic, timeoutMs = 5000) {
      const frame = await waitFor(
        () => parser.frames.find((f) => f.event === topic && !consumed.has(f)),
        `an SSE ${topic} event`,
        timeoutMs,
      );
      consumed.add(frame);
      return JSON.parse(frame.data ?? "null") as Record<string, unknown>;
    },
    close: () => controller.abort(),
  };
}

export function root(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

export function hex32(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0").repeat(32)}`;
}

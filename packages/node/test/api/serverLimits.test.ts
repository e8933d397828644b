// The HTTP server drops what a hostile client leaves open: slow headers, silent sockets,
// connections past the cap; each drop is counted. Short timeouts here; production values in serverLimits.ts.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import { type ApiServer, startApiServer } from "../../src/api/server.ts";
import {
  CLIENT_ERROR_CLOSES_PER_TURN,
  DEFAULT_SERVER_LIMITS,
  type ServerLimits,
  SocketCloser,
} from "../../src/api/serverLimits.ts";
import { fakeApiBackend, waitFor } from "./helpers.ts";

const opened: { server: ApiServer; sockets: Socket[] }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    for (const s of o.sockets) s.destroy();
    await o.server.app.close();
  }
});

async function start(limits: Partial<ServerLimits>): Promise<{ server: ApiServer; sockets: Socket[] }> {
  const server = await startApiServer({ host: "127.0.0.1", port: 0, backend: fakeApiBackend(), limits });
  const entry = { server, sockets: [] as Socket[] };
  opened.push(entry);
  return entry;
}

function open(entry: { server: ApiServer; sockets: Socket[] }): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(entry.server.port, "127.0.0.1");
    entry.sockets.push(socket);
    socket.on("error", () => {});
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now() - started)));
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

describe("HTTP server limits", () => {
  it("production defaults: header timeout checked every second, a connection cap, no unlimited socket", () => {
    assert.ok(DEFAULT_SERVER_LIMITS.headersTimeoutMs > 0 && DEFAULT_SERVER_LIMITS.headersTimeoutMs <= 10_000);
    assert.ok(DEFAULT_SERVER_LIMITS.checkIntervalMs <= 1_000);
    assert.ok(DEFAULT_SERVER_LIMITS.idleSocketTimeoutMs > 0);
    assert.ok(Number.isFinite(DEFAULT_SERVER_LIMITS.maxConnections) && DEFAULT_SERVER_LIMITS.maxConnections > 0);
  });

  it("a slow-header client is dropped once the header timeout passes, and counted", async () => {
    const entry = await start({ headersTimeoutMs: 600, checkIntervalMs: 100, idleSocketTimeoutMs: 5_000 });
    const { socket, closed } = await open(entry);
    socket.write("GET /eth/v1/node/version HTTP/1.1\r\nHost: x\r\n");
    // Keep trickling header bytes: the idle timeout alone would never fire.
    const drip = setInterval(() => socket.write("X-a: b\r\n"), 100);
    try {
      const lifetime = await Promise.race([
        closed,
        new Promise<number>((_, reject) => setTimeout(() => reject(new Error("slow client still open")), 4_000)),
      ]);
      assert.ok(lifetime >= 500, `closed after ${lifetime} ms, before the header timeout`);
    } finally {
      clearInterval(drip);
    }
    await waitFor(() => entry.server.stats.connectionsDropped.request_timeout >= 1, "the drop counted");
  });

  it("a connection that sends nothing is closed after the idle timeout, and counted", async () => {
    const entry = await start({ idleSocketTimeoutMs: 400, checkIntervalMs: 100, headersTimeoutMs: 5_000 });
    const { closed } = await open(entry);
    const lifetime = await closed;
    assert.ok(lifetime < 3_000, `idle socket lived ${lifetime} ms`);
    await waitFor(
      () => entry.server.stats.connectionsDropped.idle_timeout + entry.server.stats.connectionsDropped.request_timeout,
      "the drop counted",
    );
  });

  it("connections past the cap are closed at once and counted; the server keeps answering", async () => {
    const entry = await start({ maxConnections: 3 });
    const held = await Promise.all([open(entry), open(entry), open(entry)]);
    await waitFor(() => entry.server.stats.openConnections === 3, "three connections accepted");
    const extra = await open(entry);
    await extra.closed;
    await waitFor(() => entry.server.stats.connectionsDropped.max_connections === 1, "the refusal counted");
    for (const h of held) h.socket.destroy();
    await waitFor(() => entry.server.stats.openConnections === 0, "held connections gone");
    const res = await fetch(`http://127.0.0.1:${entry.server.port}/eth/v1/node/version`);
    assert.equal(res.status, 200);
  });
});

describe("SocketCloser: a burst of failed sockets is closed a bounded batch per turn", () => {
  /** Enough of a Socket for the closer: records what it was answered and whether it was destroyed. */
  function fakeSocket(): Socket & { answered: string[]; destroyedNow: boolean } {
    const s = {
      answered: [] as string[],
      destroyedNow: false,
      writable: true,
      writableEnded: false,
      end(data: string) {
        s.answered.push(data);
        s.writableEnded = true;
      },
      destroy() {
        s.destroyedNow = true;
        s.writable = false;
      },
    };
    return s as unknown as Socket & { answered: string[]; destroyedNow: boolean };
  }

  it("closes at most perTurn sockets per turn, answering each once, until all are closed", () => {
    const turns: (() => void)[] = [];
    const closer = new SocketCloser(1024, CLIENT_ERROR_CLOSES_PER_TURN, (fn) => turns.push(fn));
    const sockets = Array.from({ length: 500 }, fakeSocket);
    for (const s of sockets) closer.close(s, "HTTP/1.1 408 Request Timeout\r\n\r\n");
    assert.equal(sockets.filter((s) => s.destroyedNow).length, 0, "nothing closed inside the timeout loop");
    let turnCount = 0;
    while (turns.length > 0) {
      const before = sockets.filter((s) => s.destroyedNow).length;
      turns.shift()?.();
      turnCount++;
      const closedThisTurn = sockets.filter((s) => s.destroyedNow).length - before;
      assert.ok(closedThisTurn <= CLIENT_ERROR_CLOSES_PER_TURN, `${closedThisTurn} closed in one turn`);
    }
    assert.equal(turnCount, Math.ceil(500 / CLIENT_ERROR_CLOSES_PER_TURN));
    assert.ok(sockets.every((s) => s.destroyedNow && s.answered.length === 1));
    assert.equal(closer.pending, 0);
  });

  it("a socket reported twice is closed once; past the bound a socket is closed at once", () => {
    const turns: (() => void)[] = [];
    const closer = new SocketCloser(2, 8, (fn) => turns.push(fn));
    const [a, b, c] = [fakeSocket(), fakeSocket(), fakeSocket()];
    closer.close(a, "x");
    closer.close(a, "x");
    closer.close(b, "x");
    closer.close(c, "x");
    assert.equal(c.destroyedNow, true, "the queue is full: closed synchronously");
    assert.equal(closer.pending, 2);
    turns.shift()?.();
    assert.equal(a.answered.length, 1);
    assert.ok(a.destroyedNow && b.destroyedNow);
  });

  it("a real server drops 200 slow-header sockets that time out together, all counted", async () => {
    const entry = await start({ headersTimeoutMs: 400, checkIntervalMs: 100, idleSocketTimeoutMs: 10_000 });
    const clients = await Promise.all(Array.from({ length: 200 }, () => open(entry)));
    for (const { socket } of clients) socket.write("GET /eth/v1/node/version HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => {
      for (const { socket } of clients) if (!socket.destroyed) socket.write("X-a: b\r\n");
    }, 100);
    try {
      await Promise.all(clients.map((c) => c.closed));
    } finally {
      clearInterval(drip);
    }
    await waitFor(() => entry.server.stats.connectionsDropped.request_timeout >= 200, "200 drops counted");
  });
});

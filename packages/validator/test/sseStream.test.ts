import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  EventSizeGuard,
  MalformedEventError,
  type SseEvent,
  SseStream,
  type SseStreamOptions,
} from "../src/sseStream.ts";
import { delay, logCollector, openStream, ScriptedSseServer, waitFor } from "./scriptedSseServer.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function server(...args: Parameters<typeof ScriptedSseServer.start>): Promise<ScriptedSseServer> {
  const s = await ScriptedSseServer.start(...args);
  cleanup.push(() => s.close());
  return s;
}

interface Harness {
  stream: SseStream;
  events: SseEvent[];
  states: { state: string; reason: string | undefined }[];
  logs: ReturnType<typeof logCollector>["lines"];
}

function stream(opts: Partial<SseStreamOptions> & { url: string }): Harness {
  const events: SseEvent[] = [];
  const states: Harness["states"] = [];
  const { lines, log } = logCollector();
  const s = new SseStream({
    onEvent: (e) => events.push(e),
    onState: (state, reason) => states.push({ state, reason }),
    log,
    ...opts,
  });
  cleanup.push(() => s.stop());
  return { stream: s, events, states, logs: lines };
}

/** The failedAttempts values the stream logged before each automatic reconnect. */
function reconnectLog(h: Harness): { delayMs: number; failedAttempts: number }[] {
  return h.logs
    .filter((l) => l.msg === "event stream reconnecting")
    .map((l) => ({ delayMs: l.ctx?.delayMs as number, failedAttempts: l.ctx?.failedAttempts as number }));
}

describe("EventSizeGuard", () => {
  it("finds the byte where the event in progress passes the cap; a blank line (LF, CR, CRLF) resets it", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const g = new EventSizeGuard(10);
    assert.equal(g.overflowAt(enc("data: 1234\n")), -1); // 10 bytes, at the cap
    assert.equal(g.overflowAt(enc("\n")), -1); // blank line: event over
    assert.equal(g.overflowAt(enc("data: 1234\r\n\r\ndata: 1234\r\r")), -1); // CRLF and CR terminators
    assert.equal(g.overflowAt(enc("da")), -1);
    assert.equal(g.overflowAt(enc("ta: 1234\ndata: 1\n")), 9, "two lines of one event sum up");
    const endless = new EventSizeGuard(1000);
    assert.equal(endless.overflowAt(new Uint8Array(1000).fill(0x78)), -1);
    assert.equal(endless.overflowAt(new Uint8Array(1).fill(0x78)), 0, "an unterminated line passes the cap");
    // CRLF is one terminator, not a blank line: the event keeps growing.
    const crlf = new EventSizeGuard(12);
    assert.equal(crlf.overflowAt(enc("data: 12\r\ndata: 34\r\n")), 14);
  });
});

describe("SseStream", () => {
  it("delivers events with type, data, id and multi-line data; comments and retry are not events", async () => {
    const s = await server("script", (_req, res) => {
      openStream(res);
      res.write("retry: 100\n\n: keepalive\n\n");
      res.write('event: head\nid: 7\ndata: {"slot":"1"}\n\n');
      res.write("data: line1\ndata: line2\n\n");
      res.write("event: x\r\ndata: crlf\r\n\r\n");
    });
    const h = stream({ url: s.eventsUrl });
    h.stream.start();
    await waitFor(() => h.events.length === 3, "three events");
    assert.deepEqual(h.events, [
      { type: "head", data: '{"slot":"1"}', id: "7" },
      { type: "message", data: "line1\nline2" },
      { type: "x", data: "crlf" },
    ]);
    assert.deepEqual(
      h.states.map((x) => x.state),
      ["connecting", "open"],
    );
    assert.equal(h.stream.stats.connects, 1);
    assert.equal(h.stream.stats.eventsReceived, 3);
    assert.equal(h.stream.stats.malformed, 0);
    assert.equal(s.paths[0], "/eth/v1/events?topics=head");
  });

  it("an endpoint that accepts and closes at once causes no busy loop: the backoff keeps growing", async () => {
    const s = await server("script", (_req, res) => {
      openStream(res);
      res.end();
    });
    const h = stream({ url: s.eventsUrl, backoff: { initialMs: 40, maxMs: 5000 }, random: () => 0.999 });
    const started = Date.now();
    h.stream.start();
    await delay(1500);
    const elapsed = Date.now() - started;
    // Delays 40, 80, 160, 320, 640 ms -> 5 or 6 connections in 1.5 s. Resetting the backoff on
    // an event-less connection would make it ~37; a busy loop thousands.
    assert.ok(s.requests >= 3, `keeps retrying (${s.requests})`);
    assert.ok(s.requests <= 7, `${s.requests} connections in ${elapsed} ms`);
    const log = reconnectLog(h);
    assert.deepEqual(
      log.map((x) => x.failedAttempts),
      log.map((_, i) => i + 1),
      "the failure count only grows",
    );
    for (let i = 1; i < log.length; i++) assert.ok(log[i]!.delayMs > log[i - 1]!.delayMs, "delays grow");
    assert.equal(h.stream.stats.eventsReceived, 0);
    assert.equal(h.stream.stats.disconnects, s.requests);
  });

  it("with real jitter, reconnects to a TCP-reset endpoint stay under the floor-bounded rate", async () => {
    const s = await server("reset");
    const h = stream({ url: s.eventsUrl, backoff: { initialMs: 20, maxMs: 1000 } });
    h.stream.start();
    await delay(1000);
    // The floor (initialMs/2 = 10 ms) caps it at 100/s whatever the draws; expected ~8.
    assert.ok(s.connections <= 30, `${s.connections} connection attempts in 1 s`);
    assert.ok(s.connections >= 2, "retried");
    assert.equal(h.stream.stats.connects, 0);
    assert.equal(h.stream.stats.connectFailures, s.connections);
    assert.equal(h.stream.state === "open", false);
  });

  it("the backoff resets only after a connection that delivered an event", async () => {
    let mode: "event" | "comment" | "malformed" = "event";
    const s = await server("script", (_req, res) => {
      openStream(res);
      if (mode === "event") res.write("data: 1\n\n");
      else if (mode === "comment") res.write(": keepalive\n\n");
      else res.write("data: not-json\n\n");
      res.end();
    });
    const h = stream({
      url: s.eventsUrl,
      backoff: { initialMs: 20, maxMs: 10_000 },
      random: () => 0.999,
      onEvent: (e) => {
        if (e.data === "not-json") throw new MalformedEventError("bad");
      },
    });
    h.stream.start();
    await waitFor(() => reconnectLog(h).length >= 4, "four reconnects after productive connections");
    assert.ok(
      reconnectLog(h).every((x) => x.failedAttempts === 0 && x.delayMs <= 20),
      "productive connections keep the initial delay",
    );
    for (const next of ["comment", "malformed"] as const) {
      mode = next;
      const before = reconnectLog(h).length;
      await waitFor(() => reconnectLog(h).length >= before + 3, `three reconnects after ${next}-only connections`);
      const tail = reconnectLog(h).slice(before + 1);
      assert.deepEqual(
        tail.map((x) => x.failedAttempts),
        [1, 2].map((n) => n + tail[0]!.failedAttempts - 1),
        `${next}: failures accumulate`,
      );
      mode = "event";
      await waitFor(() => h.stream.consecutiveFailures === 0, "reset by a productive connection", 10_000);
    }
  });

  it("a malformed event is logged and skipped; the connection lives on and the next event arrives", async () => {
    const s = await server("sse");
    const accepted: SseEvent[] = [];
    const h = stream({
      url: s.eventsUrl,
      onEvent: (e) => {
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(e.data);
        } catch {
          throw new MalformedEventError("invalid JSON");
        }
        if ("bad" in json) throw new MalformedEventError("bad field");
        accepted.push(e);
      },
    });
    h.stream.start();
    await waitFor(() => s.subscribers.size === 1, "subscribed");
    s.send("data: {not json\n\n");
    s.send('data: {"bad":1}\n\n');
    s.send("bogus-field: x\n\n");
    s.send('data: {"ok":1}\n\n');
    await waitFor(() => accepted.length === 1, "the valid event");
    assert.equal(accepted[0]!.data, '{"ok":1}');
    assert.equal(h.stream.stats.malformed, 3);
    assert.equal(h.stream.stats.eventsReceived, 1);
    assert.equal(h.stream.state, "open");
    assert.equal(s.requests, 1, "never reconnected");
    assert.ok(h.logs.some((l) => l.level === "warn" && l.msg === "malformed event skipped"));
  });

  it("an endless data line closes the stream after ~cap bytes; memory stays bounded", async () => {
    let written = 0;
    let finished = false;
    let clientGone = false;
    const total = 32 * 1024 * 1024;
    const s = await server("script", (_req, res) => {
      openStream(res);
      res.on("close", () => {
        clientGone = true;
      });
      const chunk = Buffer.alloc(64 * 1024, 0x78);
      res.write("data: ");
      const pump = () => {
        while (!clientGone && written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        finished = !clientGone;
        res.end();
      };
      pump();
    });
    const cap = 64 * 1024;
    const h = stream({ url: s.eventsUrl, maxEventBytes: cap, reconnect: "manual" });
    h.stream.start();
    await waitFor(() => h.states.some((x) => x.state === "closed"), "the stream closes", 10_000);
    assert.equal(h.stream.stats.oversized, 1);
    assert.match(h.states.at(-1)!.reason ?? "", /exceeded 65536 bytes/);
    // Read at most the cap plus one network chunk; the server never got to finish its 32 MiB.
    assert.ok(h.stream.stats.bytesReceived <= cap + 1024 * 1024, `read ${h.stream.stats.bytesReceived} bytes`);
    await waitFor(() => clientGone, "the server sees the client go");
    assert.equal(finished, false);
    assert.ok(written < total, `server wrote ${written} bytes before the close`);
    assert.equal(h.events.length, 0);
  });

  it("an event made of many short data lines is capped too, while an event under the cap passes", async () => {
    const cap = 16 * 1024;
    const s = await server("script", (_req, res) => {
      openStream(res);
      res.write(`data: ${"y".repeat(cap - 100)}\n\n`);
      res.write("data: x\n".repeat(5000));
    });
    const h = stream({ url: s.eventsUrl, maxEventBytes: cap, reconnect: "manual" });
    h.stream.start();
    await waitFor(() => h.stream.stats.oversized === 1, "oversized");
    assert.equal(h.events.length, 1, "the event under the cap was delivered");
    assert.equal(h.events[0]!.data.length, cap - 100);
    assert.equal(h.stream.state, "closed");
  });

  it("a server that accepts and never answers hits the connect timeout and is retried", async () => {
    const s = await server("hang");
    const h = stream({ url: s.eventsUrl, connectTimeoutMs: 150, backoff: { initialMs: 30, maxMs: 60 } });
    const started = Date.now();
    h.stream.start();
    await waitFor(() => s.requests >= 2, "a second attempt after the timeout");
    const firstClose = h.states.find((x) => x.state === "closed");
    assert.match(firstClose?.reason ?? "", /connect timeout \(150 ms\)/);
    assert.ok(Date.now() - started >= 150, "the first attempt waited for the timeout");
    assert.ok(h.stream.stats.connectFailures >= 1);
    assert.equal(h.stream.stats.connects, 0);
  });

  it("a consumer that throws kills the reader: the connection is closed, counted and restarted", async () => {
    const s = await server("sse");
    let calls = 0;
    const h = stream({
      url: s.eventsUrl,
      backoff: { initialMs: 20, maxMs: 40 },
      onEvent: (e) => {
        calls++;
        if (calls === 1) throw new Error("consumer bug");
        h.events.push(e);
      },
    });
    h.stream.start();
    await waitFor(() => s.subscribers.size === 1, "subscribed");
    s.send("data: first\n\n");
    await waitFor(() => s.requests === 2 && s.subscribers.size === 1, "reconnected");
    s.send("data: second\n\n");
    await waitFor(() => h.events.length === 1, "the restarted reader delivers");
    assert.equal(h.events[0]!.data, "second");
    assert.equal(h.stream.stats.readerErrors, 1);
    assert.equal(h.stream.stats.disconnects, 1);
    assert.ok(h.states.some((x) => x.state === "closed" && /event handler failed: consumer bug/.test(x.reason ?? "")));
    assert.ok(h.logs.some((l) => l.level === "error"));
  });

  it("if the loop itself dies unexpectedly it is noticed, counted and restarted", async () => {
    const s = await server("reset");
    let draws = 0;
    const h = stream({
      url: s.eventsUrl,
      backoff: { initialMs: 10, maxMs: 40 },
      // The first reconnect's jitter draw throws: an exception outside any connection.
      random: () => {
        if (draws++ === 0) throw new Error("jitter bug");
        return 0.5;
      },
    });
    h.stream.start();
    await waitFor(() => s.connections >= 3, "attempts continue after the crash");
    assert.equal(h.stream.stats.readerErrors, 1);
    assert.ok(
      h.logs.some((l) => l.level === "error" && l.msg === "event stream loop crashed" && l.ctx?.error === "jitter bug"),
    );
  });

  it("a body that errors mid-stream and a fetch that throws synchronously are retried, not fatal", async () => {
    let calls = 0;
    const fetchImpl = ((_url: string) => {
      calls++;
      if (calls === 1) throw new TypeError("synchronous failure");
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`data: call${calls}\n\n`));
          if (calls === 2) setTimeout(() => controller.error(new Error("socket hang up")), 10);
        },
      });
      return Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
    }) as unknown as typeof fetch;
    const h = stream({ url: "http://example.invalid/events", fetchImpl, backoff: { initialMs: 10, maxMs: 20 } });
    h.stream.start();
    await waitFor(() => h.events.length === 2, "events from the second and third connections");
    assert.deepEqual(
      h.events.map((e) => e.data),
      ["call2", "call3"],
    );
    assert.equal(h.stream.stats.connectFailures, 1);
    assert.equal(h.stream.stats.disconnects, 1);
    assert.ok(h.states.some((x) => /read failed: socket hang up/.test(x.reason ?? "")));
    assert.equal(h.stream.state, "open");
  });

  it("rejects error statuses and non-event-stream responses as connect failures", async () => {
    const s = await server("script", (_req, res, i) => {
      if (i === 0) res.writeHead(503).end("busy");
      else res.writeHead(200, { "content-type": "text/html" }).end("<html>");
    });
    const h = stream({ url: s.eventsUrl, reconnect: "manual" });
    h.stream.start();
    await waitFor(() => h.stream.stats.connectFailures === 1 && !h.stream.running, "first failure");
    assert.equal(h.stream.reconnect(), true);
    await waitFor(() => h.stream.stats.connectFailures === 2 && !h.stream.running, "second failure");
    const reasons = h.states.filter((x) => x.state === "closed").map((x) => x.reason);
    assert.deepEqual(reasons, ["HTTP 503", 'unexpected content type "text/html"']);
    assert.equal(h.stream.stats.connects, 0);
  });

  it("manual mode: a dropped stream stays closed until reconnect(); reconnect() is a no-op while open", async () => {
    const s = await server("sse");
    const h = stream({ url: s.eventsUrl, reconnect: "manual" });
    h.stream.start();
    await waitFor(() => s.subscribers.size === 1, "subscribed");
    assert.equal(h.stream.reconnect(), false, "already open");
    s.dropSubscribers();
    await waitFor(() => h.stream.state === "closed" && !h.stream.running, "closed");
    await delay(300);
    assert.equal(s.requests, 1, "no attempt without reconnect()");
    assert.equal(h.stream.reconnect(), true);
    await waitFor(() => s.subscribers.size === 1 && h.stream.state === "open", "open again");
    assert.equal(s.requests, 2);
    assert.equal(h.stream.stats.disconnects, 1);
  });

  it("stop() ends an open stream and a pending backoff promptly, and nothing reconnects after", async () => {
    const s = await server("sse");
    const open = stream({ url: s.eventsUrl });
    open.stream.start();
    await waitFor(() => s.subscribers.size === 1, "subscribed");
    let t = Date.now();
    await open.stream.stop();
    assert.ok(Date.now() - t < 500);
    await waitFor(() => s.subscribers.size === 0, "server sees the close");
    assert.equal(open.stream.state, "closed");
    assert.equal(open.stream.stats.disconnects, 0, "a stop is not a disconnection");

    const refusing = await server("reset");
    const waiting = stream({ url: refusing.eventsUrl, backoff: { initialMs: 10_000, maxMs: 10_000 } });
    waiting.stream.start();
    await waitFor(() => reconnectLog(waiting).length === 1, "in backoff");
    t = Date.now();
    await waiting.stream.stop();
    assert.ok(Date.now() - t < 500, "the backoff wait was cut short");
    const attempts = refusing.connections;
    await delay(100);
    assert.equal(refusing.connections, attempts);
    assert.equal(waiting.stream.reconnect(), false);
  });

  it("an idle timeout (opt-in) closes a stream that went silent", async () => {
    const s = await server("sse");
    const idleMs = 400;
    const h = stream({ url: s.eventsUrl, idleTimeoutMs: idleMs, reconnect: "manual" });
    h.stream.start();
    await waitFor(() => s.subscribers.size === 1, "subscribed");
    // Keep-alives every 40 ms keep it open for well past the timeout...
    const until = Date.now() + 2 * idleMs;
    let lastSentAt = 0;
    while (Date.now() < until) {
      lastSentAt = Date.now();
      s.send(": keepalive\n\n");
      await delay(40);
    }
    assert.equal(h.stream.state, "open");
    assert.equal(h.stream.stats.idleTimeouts, 0);
    // ...silence closes it.
    await waitFor(() => h.stream.state === "closed", "idle close", 5 * idleMs);
    assert.ok(Date.now() - lastSentAt >= idleMs, "not before the timeout");
    assert.equal(h.stream.stats.idleTimeouts, 1);
    assert.match(h.states.at(-1)!.reason ?? "", /idle timeout/);
  });
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AttestationData, SignedAggregatedAttestation } from "@metronome/chain";
import { bitlistHex, type EventsPluginOptions, eventsPlugin } from "../../src/api/events.ts";
import { ChainEvents } from "../../src/chain/chainEvents.ts";
import { CHAIN_REORG_EVENT_FIELDS, HEAD_EVENT_FIELDS } from "./eventFields.ts";
import { hex32, openSse, root, type SseStream, startTestServer, type TestServer, waitFor } from "./helpers.ts";

/** Ancestor lookup of the fake chain: the block at slot s has root fill(s). */
const blockRootAtSlot = (_head: Uint8Array, slot: number) => root(slot);

interface Harness {
  server: TestServer;
  events: ChainEvents;
  plugin: ReturnType<typeof eventsPlugin>;
}

const open: { servers: TestServer[]; streams: SseStream[]; sockets: Socket[] } = {
  servers: [],
  streams: [],
  sockets: [],
};

async function harness(opts: Partial<EventsPluginOptions> = {}): Promise<Harness> {
  const events = new ChainEvents();
  const plugin = eventsPlugin({ events, blockRootAtSlot, ...opts });
  const server = await startTestServer([plugin]);
  open.servers.push(server);
  return { server, events, plugin };
}

async function sse(h: Harness, query: string): Promise<SseStream> {
  const stream = await openSse(`${h.server.base}/eth/v1/events?${query}`);
  open.streams.push(stream);
  return stream;
}

function emitHead(events: ChainEvents, slot: number): void {
  events.emit("head", {
    slot,
    root: root(slot),
    stateRoot: root(100 + slot),
    previousHead: { root: root(0), slot: 0 },
  });
}

afterEach(async () => {
  for (const s of open.streams.splice(0)) s.close();
  for (const s of open.sockets.splice(0)) s.destroy();
  for (const s of open.servers.splice(0)) await s.close();
});

describe("GET /eth/v1/events", () => {
  it("accepts topics=a&topics=b and topics=a,b", async () => {
    const h = await harness();
    const repeated = await sse(h, "topics=head&topics=block");
    const comma = await sse(h, "topics=head,block");
    assert.equal(repeated.status, 200);
    assert.equal(repeated.contentType, "text/event-stream");
    await waitFor(() => h.plugin.stats().subscribers === 2, "two subscribers");
    assert.deepEqual(h.plugin.stats().subscribersByTopic, {
      head: 2,
      block: 2,
      chain_reorg: 0,
      finalized_checkpoint: 0,
      attestation: 0,
    });
    emitHead(h.events, 3);
    h.events.emit("block", { slot: 3, root: root(3), source: "gossip" });
    for (const stream of [repeated, comma]) {
      assert.equal((await stream.next("head")).slot, "3");
      assert.equal((await stream.next("block")).block, hex32(3));
    }
    // The first frame tells EventSource clients how long to back off before reconnecting.
    assert.equal(repeated.parser.frames[0]?.retry, "5000");
  });

  it("answers 400 {code, message} for an unknown or missing topic", async () => {
    const h = await harness();
    for (const query of [
      "topics=head,bogus",
      "topics=head&topics=nope",
      "",
      "topics=",
      "topics=justified_checkpoint",
    ]) {
      const res = await fetch(`${h.server.base}/eth/v1/events?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { code: number; message: string };
      assert.equal(body.code, 400);
      assert.match(body.message, /topic/i);
    }
    assert.equal(h.plugin.stats().subscribers, 0);
  });

  it("delivers head and block events with every Beacon field to a real EventSource client", async (t) => {
    const h = await harness();
    const client = fileURLToPath(new URL("./fixtures/eventSourceClient.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      [
        "--experimental-eventsource",
        "--disable-warning=ExperimentalWarning",
        client,
        `${h.server.base}/eth/v1/events?topics=head,block`,
        "head,block",
        "2",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    // stderr only carries the experimental-feature warning; kept for a failure message.
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    t.after(() => child.kill());
    const lines: { type: string; data?: Record<string, unknown> }[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => lines.push(JSON.parse(line)));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));

    await waitFor(
      () => lines.some((l) => l.type === "open" || l.type === "unavailable"),
      "the client to connect",
      10_000,
    );
    if (lines.some((l) => l.type === "unavailable")) {
      t.skip("this Node has no EventSource, even behind --experimental-eventsource");
      return;
    }
    await waitFor(() => h.plugin.stats().subscribers === 1, "the subscription");
    h.events.emit("head", { slot: 7, root: root(7), stateRoot: root(70), previousHead: { root: root(6), slot: 6 } });
    h.events.emit("block", { slot: 7, root: root(7), source: "gossip" });
    assert.equal(await exited, 0, stderr);

    const head = lines.find((l) => l.type === "head")?.data;
    assert.deepEqual(Object.keys(head ?? {}).sort(), [...HEAD_EVENT_FIELDS].sort());
    assert.deepEqual(head, {
      slot: "7",
      block: hex32(7),
      state: hex32(70),
      epoch_transition: true,
      previous_duty_dependent_root: hex32(5),
      current_duty_dependent_root: hex32(6),
      execution_optimistic: false,
    });
    assert.deepEqual(lines.find((l) => l.type === "block")?.data, {
      slot: "7",
      block: hex32(7),
      execution_optimistic: false,
    });
  });

  it("formats chain_reorg, finalized_checkpoint and attestation payloads field for field", async () => {
    const h = await harness();
    const stream = await sse(h, "topics=chain_reorg,finalized_checkpoint,attestation,head");
    await waitFor(() => h.plugin.stats().subscribers === 1, "the subscription");

    h.events.emit("chain_reorg", {
      slot: 12,
      depth: 2,
      oldHead: { root: root(11), slot: 11 },
      newHead: { root: root(12), slot: 12 },
      oldHeadStateRoot: root(111),
      newHeadStateRoot: root(112),
    });
    const reorg = await stream.next("chain_reorg");
    assert.deepEqual(Object.keys(reorg).sort(), [...CHAIN_REORG_EVENT_FIELDS].sort());
    assert.deepEqual(reorg, {
      slot: "12",
      depth: "2",
      old_head_block: hex32(11),
      new_head_block: hex32(12),
      old_head_state: hex32(111),
      new_head_state: hex32(112),
      epoch: "12",
      execution_optimistic: false,
    });

    h.events.emit("finalized_checkpoint", { checkpoint: { root: root(8), slot: 8 }, stateRoot: root(80) });
    assert.deepEqual(await stream.next("finalized_checkpoint"), {
      block: hex32(8),
      state: hex32(80),
      epoch: "8",
      execution_optimistic: false,
    });

    const data = {
      slot: 12,
      head: { root: root(12), slot: 12 },
      target: { root: root(9), slot: 9 },
      source: { root: root(8), slot: 8 },
    };
    h.events.emit("attestation", {
      validatorIndices: [5, 2],
      data,
      signature: new Uint8Array(96).fill(7),
      aggregated: true,
    });
    const att = await stream.next("attestation");
    assert.deepEqual(att, {
      aggregation_bits: bitlistHex([2, 5]),
      data: {
        slot: "12",
        index: "0",
        beacon_block_root: hex32(12),
        head: { root: hex32(12), slot: "12" },
        source: { epoch: "8", root: hex32(8), slot: "8" },
        target: { epoch: "9", root: hex32(9), slot: "9" },
      },
      signature: `0x${"07".repeat(96)}`,
      attesting_indices: ["2", "5"],
      aggregated: true,
    });
    // aggregation_bits is the SSZ Bitlist our aggregates carry: it decodes to the same participants.
    const decoded = SignedAggregatedAttestation.fromJson({
      aggregation_bits: att.aggregation_bits,
      data: AttestationData.toJson(data),
      signature: att.signature,
    });
    assert.deepEqual(decoded.aggregationBits.getTrueBitIndexes(), [2, 5]);
    assert.equal(decoded.aggregationBits.bitLen, 6);

    // A head change within the same slot is not an epoch transition; slot 0 underflows to genesis.
    h.events.emit("head", { slot: 0, root: root(0), stateRoot: root(1), previousHead: { root: root(2), slot: 0 } });
    const head = await stream.next("head");
    assert.equal(head.epoch_transition, false);
    assert.equal(head.previous_duty_dependent_root, hex32(0));
    assert.equal(head.current_duty_dependent_root, hex32(0));
  });

  it("sends keep-alive comment lines on an idle stream", async () => {
    const h = await harness({ keepAliveMs: 40 });
    const stream = await sse(h, "topics=head");
    await waitFor(
      () => stream.parser.frames.filter((f) => f.comments.includes("keepalive")).length >= 2,
      "keep-alives",
      3000,
    );
    assert.ok(h.plugin.stats().keepAlivesSent >= 2);
    // Comments carry no event.
    assert.ok(stream.parser.frames.every((f) => f.event === null));
  });

  it("cuts off a consumer that stops reading and keeps serving the others", async () => {
    const maxBufferedBytes = 32 * 1024;
    const h = await harness({ maxBufferedBytes });
    const normal = await sse(h, "topics=head");

    // A raw client that sends the request and then never reads from its socket.
    const slow = connect(h.server.port, "127.0.0.1");
    open.sockets.push(slow);
    slow.on("error", () => {});
    await new Promise<void>((resolve) => slow.once("connect", () => resolve()));
    slow.write(`GET /eth/v1/events?topics=head HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause();
    await waitFor(() => h.plugin.stats().subscribers === 2, "both subscribers");

    // Emit until the kernel buffers of the stalled socket are full and ours passes the cap.
    let slot = 1;
    const deadline = Date.now() + 20_000;
    while (h.plugin.stats().slowConsumerDrops === 0) {
      assert.ok(Date.now() < deadline, "the stalled consumer was never cut off");
      for (let i = 0; i < 50; i++) emitHead(h.events, slot++);
      await new Promise((r) => setImmediate(r));
    }
    const stats = h.plugin.stats();
    assert.equal(stats.slowConsumerDrops, 1);
    assert.equal(stats.subscribers, 1);
    await new Promise<void>((resolve) => {
      if (slow.destroyed || slow.readableEnded) resolve();
      slow.once("close", () => resolve());
      slow.resume();
    });

    // The reader that kept up still gets everything, including what comes after the cut.
    emitHead(h.events, 1_000_000);
    const last = await waitFor(
      () => normal.parser.frames.find((f) => f.event === "head" && f.data?.includes('"slot":"1000000"')),
      "the normal consumer to receive the event after the cut",
      10_000,
    );
    assert.ok(last);
    assert.equal(normal.parser.frames.filter((f) => f.event === "head").length, slot);
  });

  it("fans one serialized event out to 300 concurrent subscribers", async (t) => {
    const h = await harness({ maxSubscribers: 300 });
    const received: string[] = [];
    const requests = Array.from({ length: 300 }, () => {
      const req = request(`${h.server.base}/eth/v1/events?topics=block`, { agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          const match = /event: block\ndata: (.*)\n\n/.exec(text);
          if (match?.[1] !== undefined) {
            received.push(match[1]);
            text = "";
          }
        });
        res.on("error", () => {});
      });
      req.on("error", () => {});
      req.end();
      return req;
    });
    t.after(() => {
      for (const r of requests) r.destroy();
    });
    await waitFor(() => h.plugin.stats().subscribers === 300, "300 subscribers", 10_000);
    // One past the cap is refused with a Beacon error body.
    const refused = await fetch(`${h.server.base}/eth/v1/events?topics=block`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "5");
    assert.deepEqual(Object.keys((await refused.json()) as object).sort(), ["code", "message"]);
    assert.equal(h.plugin.stats().rejectedFull, 1);

    h.events.emit("block", { slot: 9, root: root(9), source: "gossip" });
    await waitFor(() => received.length === 300, "all 300 subscribers to receive the block", 10_000);
    assert.ok(received.every((r) => r === received[0]));
    assert.deepEqual(JSON.parse(received[0] as string), { slot: "9", block: hex32(9), execution_optimistic: false });
    const stats = h.plugin.stats();
    assert.equal(stats.eventsSerialized, 1);
    assert.equal(stats.framesWritten, 300);
    for (const r of requests) r.destroy();
    await waitFor(() => h.plugin.stats().subscribers === 0, "subscribers to go away");
  });

  it("serializes nothing when nobody listens and ends open streams on close", async () => {
    const h = await harness();
    emitHead(h.events, 1);
    assert.equal(h.plugin.stats().eventsSerialized, 0);
    const stream = await sse(h, "topics=head");
    await waitFor(() => h.plugin.stats().subscribers === 1, "the subscription");
    const started = Date.now();
    await h.server.close();
    open.servers.splice(open.servers.indexOf(h.server), 1);
    assert.ok(Date.now() - started < 2000, "close must not wait for the stream");
    assert.equal(h.plugin.stats().subscribers, 0);
    stream.close();
  });
});

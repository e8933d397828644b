import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { deadUrl, startSilentServer } from "../../../test/vc/fakeBeaconNode.ts";
import {
  AllBeaconNodesFailedError,
  BeaconNodeClient,
  BeaconNodeError,
  BeaconNodes,
  MAX_RESPONSE_BYTES,
  normalizeBeaconNodeUrls,
} from "../src/beaconNodes.ts";

const apps: FastifyInstance[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const c of closers.splice(0)) await c();
});

async function server(setup: (app: FastifyInstance) => void): Promise<string> {
  // Force-close: a response the client aborted mid-body must not hold the test's cleanup open.
  const app = Fastify({ forceCloseConnections: true });
  setup(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  apps.push(app);
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** A fetch that answers /eth/v1/node/syncing per host from `table`, and records call order. */
function syncingFetch(
  table: Record<string, { head: number; syncing: boolean } | "down">,
  calls: string[],
): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    calls.push(url.origin);
    const entry = table[url.origin];
    if (entry === undefined || entry === "down") throw new TypeError("fetch failed");
    if (url.pathname === "/eth/v1/node/syncing") {
      return json({ data: { head_slot: String(entry.head), is_syncing: entry.syncing, sync_distance: "0" } });
    }
    return json({ data: { from: url.origin } });
  }) as typeof fetch;
}

describe("beacon node URLs", () => {
  it("normalizes and validates a list", () => {
    assert.deepEqual(normalizeBeaconNodeUrls(["http://a:3/", " https://b:2/prefix/ "]), [
      "http://a:3",
      "https://b:2/prefix",
    ]);
    const bad: [string[], RegExp][] = [
      [[], /at least one/],
      [["ftp://a"], /ftp: URLs are not supported/],
      [["not a url"], /is not a URL/],
      [["http://u:p@a:1"], /credentials/],
      [["http://a:3/?x=1"], /no query/],
      // Node's fetch refuses these ports outright ("bad port"): refused here with the reason.
      [["http://a:5060"], /beacon node URL http:\/\/a:5060\/: port 5060 is on the fetch standard's blocked-port list/],
      [["http://a:3", "http://a:3/"], /listed twice/],
      [Array.from({ length: 17 }, (_, i) => `http://a:${i + 1}`), /at most 16/],
    ];
    for (const [urls, message] of bad) assert.throws(() => normalizeBeaconNodeUrls(urls), message);
  });
});

describe("beacon node client: typed errors and counters", () => {
  it("classifies http, decode, size, timeout and network failures and counts them", async () => {
    const url = await server((app) => {
      app.get("/err", async (_req, reply) => reply.code(503).send({ code: 503, message: "not synced" }));
      app.get("/text", async (_req, reply) => reply.type("text/plain").send("hello"));
      app.get("/huge", async (_req, reply) => reply.type("application/json").send("1".repeat(MAX_RESPONSE_BYTES + 10)));
      app.get("/ok", async () => ({ data: 1 }));
    });
    const seen: BeaconNodeError[] = [];
    const client = new BeaconNodeClient({ url, timeoutMs: 300, onError: (e) => seen.push(e) });
    const kindOf = async (p: Promise<unknown>) => {
      try {
        await p;
        return "ok";
      } catch (err) {
        assert.ok(err instanceof BeaconNodeError);
        return `${err.kind}${err.status === undefined ? "" : `:${err.status}`}`;
      }
    };
    assert.equal(await kindOf(client.get("/err")), "http:503");
    assert.match(seen[0]?.message ?? "", /HTTP 503 not synced/);
    assert.equal(await kindOf(client.get("/text")), "decode");
    assert.equal(await kindOf(client.get("/huge")), "decode");
    assert.equal(client.consecutiveErrors, 3);
    assert.deepEqual(await client.get("/ok"), { data: 1 });
    assert.equal(client.consecutiveErrors, 0);
    assert.equal(client.requestErrors, 3);

    const silent = await startSilentServer();
    closers.push(silent.close);
    const slow = new BeaconNodeClient({ url: silent.url, timeoutMs: 200 });
    const t0 = Date.now();
    assert.equal(await kindOf(slow.get("/eth/v1/node/syncing")), "timeout");
    assert.ok(Date.now() - t0 < 1500, "the deadline holds");
    const dead = new BeaconNodeClient({ url: await deadUrl(), timeoutMs: 200 });
    assert.equal(await kindOf(dead.get("/x")), "network");
  });
});

describe("beacon nodes: ranking and fallback", () => {
  it("ranks reachable and synced first, then closest to the newest head, then configured order", async () => {
    const calls: string[] = [];
    const table = {
      "http://a:3": { head: 10, syncing: true },
      "http://b:3": { head: 8, syncing: false },
      "http://c:3": { head: 10, syncing: false },
      "http://d:3": "down" as const,
      "http://e:3": { head: 10, syncing: false },
    };
    const nodes = new BeaconNodes({ urls: Object.keys(table), timeoutMs: 500, fetchImpl: syncingFetch(table, calls) });
    await nodes.refreshStatus();
    assert.deepEqual(
      nodes.ranked().map((n) => n.client.url),
      ["http://c:3", "http://e:3", "http://b:3", "http://a:3", "http://d:3"],
    );
    // A head event moves a node's head forward: B is now the closest to the newest head.
    nodes.noteHead("http://b:3", 11);
    assert.equal(nodes.ranked()[0]?.client.url, "http://b:3");
  });

  it("falls back in rank order; prefer and only pick the node; every failure is reported", async () => {
    const calls: string[] = [];
    const table = {
      "http://a:3": "down" as const,
      "http://b:3": { head: 1, syncing: false },
      "http://c:3": { head: 1, syncing: false },
    };
    const nodes = new BeaconNodes({ urls: Object.keys(table), timeoutMs: 500, fetchImpl: syncingFetch(table, calls) });
    const first = await nodes.first("x", (c) => c.get("/x"));
    assert.equal(first.url, "http://b:3");
    assert.deepEqual(calls, ["http://a:3", "http://b:3"]);
    assert.equal(nodes.status("http://a:3")?.reachable, false);
    // A is now ranked last, so it is not tried first again.
    calls.length = 0;
    assert.equal((await nodes.first("x", (c) => c.get("/x"), { prefer: "http://c:3" })).url, "http://c:3");
    assert.deepEqual(calls, ["http://c:3"]);
    await assert.rejects(
      nodes.first("attestation data", (c) => c.get("/x"), { only: "http://a:3" }),
      (err: unknown) =>
        err instanceof AllBeaconNodesFailedError &&
        /attestation data failed on every beacon node: http:\/\/a:3/.test(err.message),
    );
    // A non-BeaconNodeError is a bug in the caller: it is not swallowed by the fallback.
    await assert.rejects(
      nodes.first("x", async () => {
        throw new RangeError("bug");
      }),
      RangeError,
    );
  });

  it("replacing the list keeps the state of URLs that stay and drops the others", async () => {
    const calls: string[] = [];
    const table = { "http://a:3": "down" as const, "http://b:3": { head: 3, syncing: false } };
    const nodes = new BeaconNodes({ urls: Object.keys(table), timeoutMs: 500, fetchImpl: syncingFetch(table, calls) });
    await nodes.refreshStatus();
    nodes.replaceUrls(["http://c:3", "http://a:3"]);
    assert.deepEqual(nodes.urls, ["http://c:3", "http://a:3"]);
    assert.equal(nodes.status("http://a:3")?.reachable, false);
    assert.equal(nodes.status("http://b:3"), undefined);
  });
});

import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { type BeaconNodeView, loadOrCreateToken, startAdminApi } from "../src/adminApi.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const apps: FastifyInstance[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function api(): Promise<{ base: string; replaced: string[][] }> {
  const state = {
    replaced: [] as string[][],
    list: [] as BeaconNodeView[],
  };
  const { app, port } = await startAdminApi({
    host: "127.0.0.1",
    port: 0,
    token: TOKEN,
    listNodes: () => state.list,
    replaceNodes: async (urls) => {
      state.replaced.push(urls);
      state.list = urls.map((url, rank) => ({
        url,
        rank,
        reachable: true,
        synced: true,
        headSlot: 7,
        lagging: false,
        requestErrors: 0,
        head: { slot: 7, root: `0x${"ab".repeat(32)}`, receivedAtMs: 1000, delayMs: 120 },
      }));
    },
  });
  apps.push(app);
  return { base: `http://127.0.0.1:${port}`, replaced: state.replaced };
}

async function call(
  url: string,
  opts: { method?: string; token?: string | null; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method: opts.method ?? "GET", headers, body: opts.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("admin API token file", () => {
  it("generates an owner-only token once and reads it back; refuses a missing or weak file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "metronome-token-"));
    dirs.push(dir);
    const path = join(dir, "api-token.txt");
    const token = await loadOrCreateToken(path, true);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await loadOrCreateToken(path, true), token);
    await assert.rejects(loadOrCreateToken(join(dir, "missing"), false), /does not exist/);
    await writeFile(join(dir, "weak"), "short\n");
    await assert.rejects(loadOrCreateToken(join(dir, "weak"), false), /at least 16 characters/);
  });
});

describe("admin API: /vc/v0/beacon_nodes", () => {
  it("answers 401 without the right bearer token, before looking at the body", async () => {
    const { base, replaced } = await api();
    for (const token of [null, "wrong", `${TOKEN}x`]) {
      const res = await call(`${base}/vc/v0/beacon_nodes`, { token });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { code: 401, message: "Missing or wrong bearer token" });
    }
    const post = await call(`${base}/vc/v0/beacon_nodes`, {
      method: "POST",
      token: null,
      body: JSON.stringify({ urls: ["http://a:3"] }),
    });
    assert.equal(post.status, 401);
    assert.equal(replaced.length, 0);
  });

  it("answers 400 {code,message} on bad input and changes nothing", async () => {
    const { base, replaced } = await api();
    const cases: [string, RegExp][] = [
      ["{", /JSON/i],
      ["[]", /Expected a JSON object/],
      [JSON.stringify({ urls: "http://a:3" }), /expected a list/],
      [JSON.stringify({ urls: [] }), /at least one/],
      [JSON.stringify({ urls: ["http://a:3", 5] }), /expected a list of URL strings/],
      [JSON.stringify({ urls: ["file:///etc/passwd"] }), /not supported/],
      [JSON.stringify({ urls: ["http://a:3", "http://a:3/"] }), /listed twice/],
      [JSON.stringify({ urls: ["http://a:3"], extra: 1 }), /Unknown field: extra/],
    ];
    for (const [body, message] of cases) {
      const res = await call(`${base}/vc/v0/beacon_nodes`, { method: "POST", body });
      assert.equal(res.status, 400, body);
      assert.equal(res.body.code, 400);
      assert.match(String(res.body.message), message, body);
    }
    assert.equal(replaced.length, 0);
  });

  it("replaces the list with normalized URLs and lists each URL's latest head", async () => {
    const { base, replaced } = await api();
    const res = await call(`${base}/vc/v0/beacon_nodes`, {
      method: "POST",
      body: JSON.stringify({ urls: ["http://b:2/", "http://a:3"] }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(replaced, [["http://b:2", "http://a:3"]]);
    const list = await call(`${base}/vc/v0/beacon_nodes`);
    const data = list.body.data as Record<string, unknown>[];
    assert.deepEqual(
      data.map((n) => n.url),
      ["http://b:2", "http://a:3"],
    );
    assert.deepEqual(data[0]?.head, {
      slot: "7",
      root: `0x${"ab".repeat(32)}`,
      received_at_ms: "1000",
      delay_ms: "120",
    });
  });
});

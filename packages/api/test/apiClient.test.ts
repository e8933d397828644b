// ApiClient against a real node:http server: each route's codec survives the wire both ways, error
// answers map to typed errors carrying the route's {code, message}, and a silent server times out.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { AttestationData, Block, BlockHeader, SignedAttestation } from "@metronome/chain";
import { ApiClient, ApiClientError, MAX_RESPONSE_BYTES } from "../src/client/apiClient.ts";
import {
  API_ROUTES,
  attestationDataRoute,
  dutiesRoute,
  headerRoute,
  healthRoute,
  produceBlockRoute,
  publishAttestationsRoute,
  syncingRoute,
} from "../src/client/routes.ts";
import type { NodeHealth } from "../src/health.ts";
import { parseExactSszJson } from "../src/sszJson.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: { close(): void; closeAllConnections(): void }[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A real HTTP server on a free loopback port; `handler` answers every request. */
async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function sendJson(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
}

/** A server that answers `route`'s encoding of `value` on the request's path, recording what came in. */
async function serveValue(value: unknown, encode: (v: never) => unknown, seen: string[] = []): Promise<string> {
  return serve((req, _body, res) => {
    seen.push(`${req.method} ${req.url}`);
    sendJson(res, 200, encode(value as never));
  });
}

const root = (b: number) => new Uint8Array(32).fill(b);
const sig = (b: number) => new Uint8Array(96).fill(b);

describe("ApiClient: route codecs over the wire", () => {
  it("syncing, duties, attestation data, header and block production decode to what the server encoded", async () => {
    const seen: string[] = [];
    const syncing = { headSlot: 12, syncDistance: 3, isSyncing: true };
    let client = new ApiClient({ baseUrl: await serveValue(syncing, syncingRoute.encode, seen), timeoutMs: 2_000 });
    assert.deepEqual(await client.call(syncingRoute, undefined), syncing);

    const duties = {
      validatorCount: 32,
      proposers: [{ slot: 5, validatorIndex: 5, pubkey: "0xaa", interval: 0 }],
      attesters: [{ slot: 5, validatorIndex: 7, pubkey: "0xbb", subnetId: 0, interval: 1 }],
    };
    client = new ApiClient({ baseUrl: await serveValue(duties, dutiesRoute.encode, seen), timeoutMs: 2_000 });
    assert.deepEqual(await client.call(dutiesRoute, { slot: 5, count: 8, indices: [5, 7] }), duties);

    const data = {
      slot: 9,
      head: { root: root(1), slot: 9 },
      target: { root: root(2), slot: 8 },
      source: { root: root(3), slot: 4 },
    };
    client = new ApiClient({ baseUrl: await serveValue(data, attestationDataRoute.encode, seen), timeoutMs: 2_000 });
    const gotData = await client.call(attestationDataRoute, { slot: 9 });
    assert.ok(AttestationData.equals(gotData, data), "attestation data round-trips");

    const header = {
      root: root(4),
      canonical: true,
      finalized: false,
      header: { ...BlockHeader.defaultValue(), slot: 9, proposerIndex: 2 },
      signature: sig(5),
    };
    client = new ApiClient({ baseUrl: await serveValue(header, headerRoute.encode, seen), timeoutMs: 2_000 });
    const gotHeader = await client.call(headerRoute, { blockId: "head" });
    assert.deepEqual(gotHeader.root, header.root);
    assert.deepEqual(gotHeader.signature, header.signature);
    assert.equal(gotHeader.canonical, true);
    assert.equal(gotHeader.finalized, false);
    assert.ok(BlockHeader.equals(gotHeader.header, header.header));

    const produced = {
      block: { ...Block.defaultValue(), slot: 9, proposerIndex: 1 },
      blockRoot: root(6),
      signingRoot: root(7),
      attestationSignatures: [],
    };
    client = new ApiClient({ baseUrl: await serveValue(produced, produceBlockRoute.encode, seen), timeoutMs: 2_000 });
    const gotBlock = await client.call(produceBlockRoute, { slot: 9, proposerIndex: 1 });
    assert.ok(Block.equals(gotBlock.block, produced.block));
    assert.deepEqual(gotBlock.signingRoot, produced.signingRoot);

    // Each request went to its route's path with its query.
    assert.deepEqual(seen, [
      "GET /eth/v1/node/syncing",
      "GET /lean/v0/validator/duties?slot=5&count=8&indices=5,7",
      "GET /lean/v0/validator/attestation_data?slot=9",
      "GET /eth/v1/beacon/headers/head",
      "GET /lean/v0/validator/block?slot=9&proposer_index=1",
    ]);
  });

  it("POSTs the route's JSON body with the bearer token, and reads the publish answer", async () => {
    let received: { auth: string | undefined; type: string | undefined; body: unknown } | undefined;
    const url = await serve((req, body, res) => {
      received = { auth: req.headers.authorization, type: req.headers["content-type"], body: JSON.parse(body) };
      sendJson(res, 202, { data: { status: "pending" } });
    });
    const att = { ...SignedAttestation.defaultValue(), validatorIndex: 3 };
    const client = new ApiClient({ baseUrl: url, timeoutMs: 2_000, token: "s3cret" });
    assert.deepEqual(await client.call(publishAttestationsRoute, [att]), { status: "pending" });
    assert.equal(received?.auth, "Bearer s3cret");
    assert.equal(received?.type, "application/json");
    assert.deepEqual(received?.body, [SignedAttestation.toJson(att)]);
  });

  it("health answers with its report on 503 too (an unhealthy node still reports)", async () => {
    const report = { status: "unhealthy", reasons: ["no peers"], head_slot: 3 } as unknown as NodeHealth;
    const url = await serve((_req, _body, res) => sendJson(res, 503, healthRoute.encode(report)));
    assert.deepEqual(
      await new ApiClient({ baseUrl: url, timeoutMs: 2_000 }).call(API_ROUTES.health, undefined),
      report,
    );
  });
});

async function errorOf(p: Promise<unknown>): Promise<ApiClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiClientError, `not an ApiClientError: ${String(err)}`);
    return err;
  }
  assert.fail("the call succeeded");
}

describe("ApiClient: typed errors", () => {
  it("an error answer is kind http with the route's {code, message}", async () => {
    const url = await serve((_req, _body, res) =>
      sendJson(res, 400, { code: 400, message: "Slot 99 is in the future" }),
    );
    const err = await errorOf(
      new ApiClient({ baseUrl: url, timeoutMs: 2_000 }).call(attestationDataRoute, { slot: 99 }),
    );
    assert.equal(err.kind, "http");
    assert.equal(err.status, 400);
    assert.equal(err.code, 400);
    assert.equal(err.apiMessage, "Slot 99 is in the future");
    assert.equal(err.url, url);
    assert.match(
      err.message,
      /GET \/lean\/v0\/validator\/attestation_data\?slot=99: HTTP 400 Slot 99 is in the future/,
    );
  });

  it("a body that is not JSON, misses a field or is too large is kind decode", async () => {
    const url = await serve((req, _body, res) => {
      if (req.url === "/eth/v1/node/syncing") return sendJson(res, 200, { data: { head_slot: "1" } });
      if (req.url?.startsWith("/lean/v0/validator/attestation_data")) {
        return res.writeHead(200, { "content-type": "text/plain" }).end("hello");
      }
      res.writeHead(200, { "content-type": "application/json" }).end("1".repeat(MAX_RESPONSE_BYTES + 10));
    });
    const client = new ApiClient({ baseUrl: url, timeoutMs: 2_000 });
    const missing = await errorOf(client.call(syncingRoute, undefined));
    assert.equal(missing.kind, "decode");
    assert.match(missing.message, /is_syncing/);
    assert.equal((await errorOf(client.call(attestationDataRoute, { slot: 1 }))).kind, "decode");
    const huge = await errorOf(client.call(healthRoute, undefined));
    assert.equal(huge.kind, "decode");
    assert.match(huge.message, /exceeds/);
  });

  it("a server that never answers is kind timeout within the deadline; a closed port is kind network", async () => {
    const silent = await serve(() => {});
    const t0 = Date.now();
    const slow = await errorOf(new ApiClient({ baseUrl: silent, timeoutMs: 200 }).call(syncingRoute, undefined));
    assert.equal(slow.kind, "timeout");
    assert.ok(Date.now() - t0 < 1_500, `the deadline holds (${Date.now() - t0} ms)`);

    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = await errorOf(
      new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 500 }).call(syncingRoute, undefined),
    );
    assert.equal(dead.kind, "network");
  });
});

describe("ApiClient: uint64 read exactly, never rounded", () => {
  const TWO_53_MINUS_1 = "9007199254740991";
  const TWO_53_PLUS_1 = "9007199254740993";
  const TWO_64_MINUS_1 = "18446744073709551615";
  const syncingWith = (headSlot: unknown) =>
    serve((_req, _body, res) =>
      sendJson(res, 200, { data: { head_slot: headSlot, sync_distance: "0", is_syncing: false } }),
    );

  it("2^53 - 1, the chain's largest slot, arrives as that number (all 16 digits)", async () => {
    const client = new ApiClient({ baseUrl: await syncingWith(TWO_53_MINUS_1), timeoutMs: 2_000 });
    assert.equal((await client.call(syncingRoute, undefined)).headSlot, Number.MAX_SAFE_INTEGER);
  });

  it("a decimal string above 2^53 - 1 is a decode error naming the value, not a rounded number", async () => {
    for (const big of [TWO_53_PLUS_1, TWO_64_MINUS_1]) {
      const client = new ApiClient({ baseUrl: await syncingWith(big), timeoutMs: 2_000 });
      const err = await errorOf(client.call(syncingRoute, undefined));
      assert.equal(err.kind, "decode");
      assert.match(err.message, new RegExp(`syncing head_slot: ${big} is above 2\\^53 - 1 \\(9007199254740991\\)`));
    }
    const header = headerRoute.encode({
      root: root(4),
      canonical: true,
      finalized: false,
      header: BlockHeader.defaultValue(),
      signature: sig(5),
    }) as { data: { header: { message: Record<string, unknown> } } };
    header.data.header.message.proposer_index = TWO_64_MINUS_1;
    const url = await serve((_req, _body, res) => sendJson(res, 200, header));
    const err = await errorOf(new ApiClient({ baseUrl: url, timeoutMs: 2_000 }).call(headerRoute, { blockId: 1 }));
    assert.equal(err.kind, "decode");
    assert.match(err.message, /header message\.proposer_index: 18446744073709551615 is above 2\^53 - 1/);

    // The same answer read raw keeps the exact value for a caller that wants it.
    const raw = await new ApiClient({ baseUrl: url, timeoutMs: 2_000 }).request("GET", "/eth/v1/beacon/headers/1");
    const message = (raw.json as typeof header).data.header.message;
    assert.equal(parseExactSszJson(BlockHeader, message, "header").proposerIndex, 2n ** 64n - 1n);
  });

  it("a bare JSON number for a Beacon-route uint64 is a decode error (JSON.parse may have rounded it)", async () => {
    const url = await serve((_req, _body, res) =>
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(`{"data":{"head_slot":${TWO_53_PLUS_1},"sync_distance":"0","is_syncing":false}}`),
    );
    const err = await errorOf(new ApiClient({ baseUrl: url, timeoutMs: 2_000 }).call(syncingRoute, undefined));
    assert.equal(err.kind, "decode");
    assert.match(err.message, /syncing head_slot: expected an unsigned integer as a decimal string, not a JSON number/);
  });
});

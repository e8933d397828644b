// uint64 over the node's HTTP API, end to end: every value is read exactly (never through a rounding
// JS number). A route answers it by its meaning where it can (a future slot, an unknown validator,
// no block at that slot), the chain's largest slot 2^53 - 1 round-trips digit for digit, and a
// value that would have to enter the chain above 2^53 - 1 is a 400 naming the field and the limit.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ApiClient, dutiesRoute } from "@metronome/api";
import { interopSecretKey, SignedAttestation, signAttestation } from "@metronome/chain";
import type { BlockIdQuery } from "../../src/api/backend.ts";
import { startApiServer } from "../../src/api/server.ts";
import { validatorRoutesPlugin } from "../../src/api/validatorRoutes.ts";
import { makeChain, storeValidatorBackend, type TestChain, tickTo } from "./chainFixture.ts";
import { fakeApiBackend, startTestServer, type TestServer } from "./helpers.ts";

const TWO_53_MINUS_1 = "9007199254740991";
const TWO_53 = "9007199254740992";
const TWO_53_PLUS_1 = "9007199254740993";
const TWO_64_MINUS_1 = "18446744073709551615";
const TWO_64 = "18446744073709551616";
const BEYOND_CHAIN = (value: string) =>
  `${value} is above 2^53 - 1 (9007199254740991), the largest value this node's chain holds`;

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serveValidatorRoutes(): Promise<{ chain: TestChain; base: string }> {
  const chain = makeChain();
  tickTo(chain, 1, 1);
  const server = await startTestServer([validatorRoutesPlugin(storeValidatorBackend(chain))]);
  servers.push(server);
  return { chain, base: server.base };
}

async function answer(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const get = async (url: string) => answer(await fetch(url));
const postText = async (url: string, text: string) =>
  answer(await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: text }));

function assertAnswer(res: { status: number; body: Record<string, unknown> }, status: number, message: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.code, status);
  assert.equal(res.body.message, message);
}

describe("uint64 over the HTTP API", () => {
  it("duties for slot 2^53 - 1 (16 digits) come back with that slot, digit for digit, through ApiClient too", async () => {
    const { base } = await serveValidatorRoutes();
    // The proposer of slot s is s % 4; (2^53 - 1) % 4 = 3.
    const res = await get(`${base}/lean/v0/validator/duties?slot=${TWO_53_MINUS_1}&indices=3`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const data = res.body.data as { proposers: { slot: string; validator_index: string }[]; attesters: unknown[] };
    assert.deepEqual(
      data.proposers.map((p) => [p.slot, p.validator_index]),
      [[TWO_53_MINUS_1, "3"]],
    );
    const duties = await new ApiClient({ baseUrl: base, timeoutMs: 5_000 }).call(dutiesRoute, {
      slot: Number.MAX_SAFE_INTEGER,
      count: 1,
      indices: [3],
    });
    assert.equal(duties.proposers[0]?.slot, Number.MAX_SAFE_INTEGER);
  });

  it("query integers are answered by what they mean, with the exact value in the message", async () => {
    const { base } = await serveValidatorRoutes();
    const v = `${base}/lean/v0/validator`;
    for (const big of [TWO_53_PLUS_1, TWO_64_MINUS_1]) {
      assertAnswer(
        await get(`${v}/attestation_data?slot=${big}`),
        400,
        `Slot ${big} is in the future (current slot 1)`,
      );
      assertAnswer(
        await get(`${v}/block?slot=${big}&proposer_index=1`),
        400,
        `Slot ${big} is in the future (current slot 1)`,
      );
      assertAnswer(
        await get(`${v}/block?slot=1&proposer_index=${big}`),
        400,
        `Validator ${big} does not propose slot 1`,
      );
      assertAnswer(
        await get(`${v}/duties?slot=0&indices=1,${big}`),
        400,
        `Unknown validator index ${big}: the registry has 4 validators`,
      );
    }
  });

  it("a query integer the chain cannot hold, or that is no uint64, is a 400 naming the limit", async () => {
    const { base } = await serveValidatorRoutes();
    const v = `${base}/lean/v0/validator`;
    assertAnswer(await get(`${v}/duties?slot=${TWO_53}&indices=1`), 400, `Invalid slot: ${BEYOND_CHAIN(TWO_53)}`);
    assertAnswer(
      await get(`${v}/duties?slot=${TWO_64_MINUS_1}&indices=1`),
      400,
      `Invalid slot: ${BEYOND_CHAIN(TWO_64_MINUS_1)}`,
    );
    assertAnswer(
      await get(`${v}/duties?slot=9007199254740990&count=3&indices=1`),
      400,
      "Invalid slot: 9007199254740990 + 3 slots reach past 2^53 - 1, the last slot this node's chain holds",
    );
    assertAnswer(await get(`${v}/attestation_data?slot=${TWO_64}`), 400, `Invalid slot: ${TWO_64} is above 2^64 - 1`);
    assertAnswer(
      await get(`${v}/duties?slot=0&indices=${TWO_64}`),
      400,
      `Invalid validator index ${TWO_64}: ${TWO_64} is above 2^64 - 1`,
    );
  });

  it("a body's uint64 above 2^53 - 1 is a 400 naming the field; a bare JSON number is refused, not rounded", async () => {
    const { chain, base } = await serveValidatorRoutes();
    const a = `${base}/lean/v0/validator/attestation`;
    const att = SignedAttestation.toJson(
      signAttestation(interopSecretKey(1), 1, chain.store.produceAttestationData(1), chain.domains),
    ) as { validator_index: string; data: Record<string, unknown> };
    for (const big of [TWO_53_PLUS_1, TWO_64_MINUS_1]) {
      assertAnswer(
        await postText(a, JSON.stringify({ ...att, validator_index: big })),
        400,
        `Invalid attestation.validator_index: ${BEYOND_CHAIN(big)}`,
      );
      assertAnswer(
        await postText(a, JSON.stringify({ ...att, data: { ...att.data, slot: big } })),
        400,
        `Invalid attestation.data.slot: ${BEYOND_CHAIN(big)}`,
      );
      // Written as a bare number, JSON.parse would round it (2^53 + 1 -> 2^53): refused as a number.
      const bare = JSON.stringify({ ...att, validator_index: "VALUE" }).replace('"VALUE"', big);
      assertAnswer(
        await postText(a, bare),
        400,
        "Invalid attestation.validator_index: expected an unsigned integer as a decimal string, not a JSON number",
      );
    }
    assertAnswer(
      await postText(a, JSON.stringify({ ...att, validator_index: TWO_64 })),
      400,
      `Invalid attestation.validator_index: ${TWO_64} is above 2^64 - 1`,
    );

    const produced = (await get(`${base}/lean/v0/validator/block?slot=1&proposer_index=1`)).body.data as {
      block: Record<string, unknown>;
    };
    assertAnswer(
      await postText(
        `${base}/lean/v0/validator/block`,
        JSON.stringify({ block: { ...produced.block, slot: TWO_64_MINUS_1 }, signature: `0x${"00".repeat(96)}` }),
      ),
      400,
      `Invalid block.slot: ${BEYOND_CHAIN(TWO_64_MINUS_1)}`,
    );
  });

  it("headers/{slot}: 2^53 - 1 reaches the chain exactly; a slot past it has no block (404); past 2^64 - 1 is a 400", async () => {
    const asked: BlockIdQuery[] = [];
    const { app, port } = await startApiServer({
      host: "127.0.0.1",
      port: 0,
      backend: {
        ...fakeApiBackend(),
        header: async (id) => {
          asked.push(id);
          return null;
        },
      },
    });
    servers.push({ app, port, base: "", close: () => app.close() });
    const h = `http://127.0.0.1:${port}/eth/v1/beacon/headers`;
    assertAnswer(await get(`${h}/${TWO_53_MINUS_1}`), 404, "Block not found");
    assert.deepEqual(asked, [{ kind: "slot", slot: Number.MAX_SAFE_INTEGER }]);
    for (const big of [TWO_53, TWO_64_MINUS_1]) {
      assertAnswer(await get(`${h}/${big}`), 404, `Block not found: no block at slot ${big}, past 2^53 - 1`);
    }
    assertAnswer(await get(`${h}/${TWO_64}`), 400, `Invalid block ID: ${TWO_64} is above 2^64 - 1`);
    assert.equal(asked.length, 1, "no slot past 2^53 - 1 reached the backend");
  });
});

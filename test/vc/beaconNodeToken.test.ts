// The validator client reaches a node whose validator routes need a bearer token.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { validatorRoutesPlugin } from "../../packages/node/src/api/validatorRoutes.ts";
import { makeChain, storeValidatorBackend } from "../../packages/node/test/api/chainFixture.ts";
import { startTestServer, type TestServer } from "../../packages/node/test/api/helpers.ts";
import { BeaconNodeClient, BeaconNodeError } from "../../packages/validator/src/beaconNodes.ts";

describe("validator client bearer token", () => {
  const token = "t".repeat(48);
  let server: TestServer | null = null;
  after(async () => {
    await server?.close();
  });

  it("sends Authorization: Bearer when given a token; without it the node answers 401", async () => {
    const chain = makeChain();
    server = await startTestServer([
      validatorRoutesPlugin(
        { ...storeValidatorBackend(chain), currentSlot: () => 0, attestationSubnetCount: () => 1 },
        { token },
      ),
    ]);
    const path = "/lean/v0/validator/duties?slot=0&indices=1";
    const withToken = new BeaconNodeClient({ url: server.base, timeoutMs: 2_000, token });
    const duties = (await withToken.get(path)) as { data: { validator_count: string } };
    assert.equal(duties.data.validator_count, "4");
    const without = new BeaconNodeClient({ url: server.base, timeoutMs: 2_000 });
    await assert.rejects(without.get(path), (err) => err instanceof BeaconNodeError && err.status === 401);
  });
});

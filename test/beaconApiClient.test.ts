// Real Beacon-API tooling can talk to the node: @lodestar/api's client calls the routes tools call
// first (genesis, peer count, peers) and decodes them with its own types.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getClient } from "@lodestar/api/beacon";
import { config } from "@lodestar/config/default";
import { type ApiServer, startApiServer } from "../packages/node/src/api/server.ts";
import { fakeApiBackend } from "../packages/node/test/api/helpers.ts";

const GENESIS_TIME = 1_700_000_123;
const STATE_ROOT = new Uint8Array(32).map((_, i) => i + 1);

describe("@lodestar/api client against the node's Beacon routes", () => {
  let server: ApiServer;
  let api: ReturnType<typeof getClient>;
  before(async () => {
    server = await startApiServer({
      host: "127.0.0.1",
      port: 0,
      backend: {
        ...fakeApiBackend(),
        peers: () => [
          { peerId: "16Uiu2HAmPeerA", address: "/ip4/127.0.0.1/tcp/9001", direction: "outbound" },
          { peerId: "16Uiu2HAmPeerB", address: "/ip4/127.0.0.1/tcp/9002", direction: "inbound" },
        ],
        genesis: () => ({
          genesisTime: GENESIS_TIME,
          genesisValidatorsRoot: STATE_ROOT,
          genesisForkVersion: STATE_ROOT.slice(0, 4),
        }),
      },
    });
    api = getClient({ baseUrl: `http://127.0.0.1:${server.port}` }, { config });
  });
  after(async () => {
    await server.app.close();
  });

  it("getGenesis: genesis time, the genesis state root and the fork digest", async () => {
    const res = await api.beacon.getGenesis();
    assert.equal(res.ok, true, `status ${res.status}`);
    const genesis = res.value();
    assert.equal(Number(genesis.genesisTime), GENESIS_TIME);
    assert.deepEqual(new Uint8Array(genesis.genesisValidatorsRoot), STATE_ROOT);
    assert.deepEqual(new Uint8Array(genesis.genesisForkVersion), STATE_ROOT.slice(0, 4));
  });

  it("getPeerCount and getPeers", async () => {
    const count = await api.node.getPeerCount();
    assert.equal(count.ok, true, `status ${count.status}`);
    assert.equal(Number(count.value().connected), 2);
    assert.equal(Number(count.value().disconnected), 0);
    const peers = await api.node.getPeers();
    assert.equal(peers.ok, true, `status ${peers.status}`);
    assert.deepEqual(
      peers.value().map((p) => [p.peerId, p.direction, p.state]),
      [
        ["16Uiu2HAmPeerA", "outbound", "connected"],
        ["16Uiu2HAmPeerB", "inbound", "connected"],
      ],
    );
    assert.equal(peers.meta().count, 2);
  });
});

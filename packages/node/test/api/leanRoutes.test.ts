import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { type Checkpoint, decode, SignedBlock, State, toHex } from "@metronome/chain";
import {
  ANCHOR_ROOT_HEADER,
  ANCHOR_SLOT_HEADER,
  type FinalizedAnchor,
  type LeanRoutesBackend,
  leanRoutesPlugin,
} from "../../src/api/leanRoutes.ts";
import { makeChain, slotOneAnchor } from "./chainFixture.ts";
import { hex32, root, startTestServer, type TestServer } from "./helpers.ts";

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function backendFor(anchor: FinalizedAnchor | null, calls = { anchor: 0 }): LeanRoutesBackend {
  const finalized: Checkpoint = anchor?.checkpoint ?? { root: root(0), slot: 0 };
  return {
    finalizedAnchor: async () => {
      calls.anchor++;
      return anchor;
    },
    forkChoiceNodes: () => [
      { root: root(1), slot: 0, parentRoot: root(0), weight: 0, proposerIndex: 0 },
      { root: root(2), slot: 1, parentRoot: root(1), weight: 3, proposerIndex: 1 },
      { root: root(3), slot: 1, parentRoot: root(1), weight: 1 },
    ],
    head: () => ({ root: root(2), slot: 1 }),
    justified: () => ({ root: root(1), slot: 0 }),
    finalized: () => finalized,
    safeTarget: () => ({ root: root(1), slot: 0 }),
    validatorCount: () => 4,
  };
}

async function serve(backend: LeanRoutesBackend): Promise<TestServer> {
  const server = await startTestServer([leanRoutesPlugin(backend)]);
  servers.push(server);
  return server;
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe("lean routes", () => {
  it("serves the finalized State and SignedBlock as SSZ that decodes to the anchor", async () => {
    const chain = makeChain();
    const anchor = slotOneAnchor(chain);
    const calls = { anchor: 0 };
    const server = await serve(backendFor(anchor, calls));

    const stateRes = await fetch(`${server.base}/lean/v0/states/finalized`);
    assert.equal(stateRes.status, 200);
    assert.equal(stateRes.headers.get("content-type"), "application/octet-stream");
    assert.equal(stateRes.headers.get(ANCHOR_ROOT_HEADER), toHex(anchor.checkpoint.root));
    assert.equal(stateRes.headers.get(ANCHOR_SLOT_HEADER), "1");
    const state = decode(State, await bytesOf(stateRes));
    assert.equal(toHex(State.hashTreeRoot(state)), toHex(anchor.block.block.stateRoot));

    const blockRes = await fetch(`${server.base}/lean/v0/blocks/finalized`);
    assert.equal(blockRes.status, 200);
    assert.equal(blockRes.headers.get("content-type"), "application/octet-stream");
    const block = decode(SignedBlock, await bytesOf(blockRes));
    assert.ok(SignedBlock.equals(block, anchor.block));

    // The encoded anchor is reused while the finalized checkpoint stays the same.
    await fetch(`${server.base}/lean/v0/states/finalized`);
    assert.equal(calls.anchor, 1);
  });

  it("answers 404 {code, message} before any anchor exists", async () => {
    const server = await serve(backendFor(null));
    for (const path of ["/lean/v0/states/finalized", "/lean/v0/blocks/finalized"]) {
      const res = await fetch(`${server.base}${path}`);
      assert.equal(res.status, 404);
      const body = (await res.json()) as { code: number; message: string };
      assert.equal(body.code, 404);
      assert.match(body.message, /anchor/);
    }
  });

  it("returns the fork-choice tree with weights and the head, justified and finalized checkpoints", async () => {
    const server = await serve(backendFor(makeChain().genesisAnchor));
    const res = await fetch(`${server.base}/lean/v0/fork_choice`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.nodes, [
      { root: hex32(1), slot: 0, parent_root: hex32(0), proposer_index: 0, weight: 0 },
      { root: hex32(2), slot: 1, parent_root: hex32(1), proposer_index: 1, weight: 3 },
      { root: hex32(3), slot: 1, parent_root: hex32(1), proposer_index: null, weight: 1 },
    ]);
    assert.equal(body.head, hex32(2));
    assert.equal(body.head_slot, 1);
    assert.deepEqual(body.justified, { slot: 0, root: hex32(1) });
    assert.equal((body.finalized as { slot: number }).slot, 0);
    assert.equal(body.safe_target, hex32(1));
    assert.equal(body.validator_count, 4);

    const justified = await (await fetch(`${server.base}/lean/v0/checkpoints/justified`)).json();
    assert.deepEqual(justified, { slot: 0, root: hex32(1) });
  });
});

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { computeForkDigest, SignedBlock, State, toHex } from "@metronome/chain";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { type FinalizedAnchor, leanRoutesPlugin } from "../../src/api/leanRoutes.ts";
import {
  type CheckpointSyncErrorCode,
  type FetchAnchorOptions,
  fetchCheckpointAnchor,
  isCheckpointSyncError,
} from "../../src/node/checkpointSync.ts";
import { makeChain, slotOneAnchor } from "./chainFixture.ts";
import { root, startTestServer } from "./helpers.ts";

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** A node API serving `anchor` through the real lean routes. */
async function servingNode(anchor: FinalizedAnchor): Promise<string> {
  const server = await startTestServer([
    leanRoutesPlugin({
      finalizedAnchor: async () => anchor,
      forkChoiceNodes: () => [],
      head: () => anchor.checkpoint,
      justified: () => anchor.checkpoint,
      finalized: () => anchor.checkpoint,
      safeTarget: () => anchor.checkpoint,
      validatorCount: () => anchor.state.validators.length,
    }),
  ]);
  apps.push(server.app);
  return server.base;
}

type Answer = { status?: number; body: Uint8Array; root?: string } | "hang";

/** A peer that answers with whatever bytes a test crafts; `answers` is consumed per request. */
async function craftedPeer(answers: { state: Answer[]; block: Answer[] }): Promise<string> {
  // Force-close so a "hang" answer cannot hold the test's cleanup open.
  const app = Fastify({ forceCloseConnections: true });
  const route = (list: Answer[]) => async (_req: unknown, reply: FastifyReply) => {
    const answer = list.length > 1 ? list.shift() : list[0];
    if (answer === undefined || answer === "hang") return new Promise(() => {});
    if (answer.root !== undefined) void reply.header("x-lean-finalized-root", answer.root);
    return reply
      .code(answer.status ?? 200)
      .header("content-type", "application/octet-stream")
      .send(Buffer.from(answer.body));
  };
  app.get("/lean/v0/states/finalized", route(answers.state));
  app.get("/lean/v0/blocks/finalized", route(answers.block));
  await app.listen({ host: "127.0.0.1", port: 0 });
  apps.push(app);
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

async function rejectsWith(promise: Promise<unknown>, code: CheckpointSyncErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isCheckpointSyncError(err), `expected a CheckpointSyncError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const chain = makeChain();
const anchor = slotOneAnchor(chain);
const stateBytes = State.serialize(anchor.state);
const blockBytes = SignedBlock.serialize(anchor.block);
const options = (extra: Partial<FetchAnchorOptions> = {}): FetchAnchorOptions => ({
  expected: { genesisState: chain.genesis },
  timeoutMs: 2000,
  ...extra,
});

describe("fetchCheckpointAnchor", () => {
  it("accepts a good anchor served by a node's lean routes", async () => {
    const base = await servingNode(anchor);
    const got = await fetchCheckpointAnchor(`${base}/`, options({ trustedRoot: anchor.checkpoint.root }));
    assert.equal(toHex(got.root), toHex(anchor.checkpoint.root));
    assert.ok(State.equals(got.state, anchor.state));
    assert.ok(SignedBlock.equals(got.block, anchor.block));
    // The fork digest alone identifies the chain too.
    const byDigest = await fetchCheckpointAnchor(
      base,
      options({ expected: { forkDigest: computeForkDigest(chain.genesis) } }),
    );
    assert.equal(byDigest.state.slot, 1);
  });

  it("rejects a block whose state_root is not the state's root", async () => {
    // The genesis block commits to the genesis state, not to the slot-1 state served beside it.
    const base = await craftedPeer({
      state: [{ body: stateBytes }],
      block: [{ body: SignedBlock.serialize(chain.genesisAnchor.block) }],
    });
    await rejectsWith(fetchCheckpointAnchor(base, options()), "STATE_ROOT_MISMATCH", /state_root .* != hash_tree_root/);
  });

  it("rejects an anchor from another genesis", async () => {
    const base = await servingNode(anchor);
    const other = makeChain(2_000).genesis;
    await rejectsWith(
      fetchCheckpointAnchor(base, options({ expected: { genesisState: other } })),
      "GENESIS_MISMATCH",
      /genesis time/,
    );
    await rejectsWith(
      fetchCheckpointAnchor(base, options({ expected: { forkDigest: computeForkDigest(other) } })),
      "GENESIS_MISMATCH",
      /fork digest/,
    );
    const fewer = { ...chain.genesis, validators: chain.genesis.validators.slice(0, 3) };
    await rejectsWith(
      fetchCheckpointAnchor(base, options({ expected: { genesisState: fewer } })),
      "GENESIS_MISMATCH",
      /validators/,
    );
  });

  it("rejects malformed bytes with a clear error", async () => {
    const truncated = await craftedPeer({
      state: [{ body: stateBytes.subarray(0, 40) }],
      block: [{ body: blockBytes }],
    });
    await rejectsWith(fetchCheckpointAnchor(truncated, options()), "MALFORMED_STATE", /malformed State/);
    const garbage = await craftedPeer({ state: [{ body: stateBytes }], block: [{ body: new Uint8Array([1, 2, 3]) }] });
    await rejectsWith(fetchCheckpointAnchor(garbage, options()), "MALFORMED_BLOCK", /malformed SignedBlock/);
  });

  it("reports HTTP errors, timeouts, oversize bodies, unreachable peers and an untrusted root", async () => {
    const missing = await craftedPeer({
      state: [{ status: 404, body: new Uint8Array() }],
      block: [{ body: blockBytes }],
    });
    await rejectsWith(fetchCheckpointAnchor(missing, options()), "HTTP_STATUS", /404/);
    const hanging = await craftedPeer({ state: ["hang"], block: [{ body: blockBytes }] });
    await rejectsWith(fetchCheckpointAnchor(hanging, options({ timeoutMs: 100 })), "TIMEOUT");
    const base = await servingNode(anchor);
    await rejectsWith(fetchCheckpointAnchor(base, options({ maxBytes: 64 })), "TOO_LARGE");
    await rejectsWith(fetchCheckpointAnchor(base, options({ trustedRoot: root(9) })), "ROOT_MISMATCH");
    // A port nobody listens on (our own closed server's).
    const closed = await craftedPeer({ state: [], block: [] });
    await apps.pop()?.close();
    await rejectsWith(fetchCheckpointAnchor(closed, options()), "FETCH_FAILED");
  });

  it("refetches a pair torn by finality advancing between the two downloads", async () => {
    const genesisAnchor = chain.genesisAnchor;
    const genesisRoot = toHex(genesisAnchor.checkpoint.root);
    const oneRoot = toHex(anchor.checkpoint.root);
    const base = await craftedPeer({
      // First round: the block of genesis, then the state of slot 1 (finality moved in between).
      block: [
        { body: SignedBlock.serialize(genesisAnchor.block), root: genesisRoot },
        { body: blockBytes, root: oneRoot },
      ],
      state: [{ body: stateBytes, root: oneRoot }],
    });
    const got = await fetchCheckpointAnchor(base, options());
    assert.equal(toHex(got.root), oneRoot);
  });
});

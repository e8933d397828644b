// A block POSTed to a running node's HTTP API replays the pending-attestation buffer at once, as
// every other import path does (PROTOCOL.md section 6). A real node in this process: real HTTP
// server, store, database and libp2p host on loopback, no peers, no validators of its own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  Block,
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  ForkChoiceStore,
  forkDigestHex,
  interopSecretKey,
  interopValidators,
  PubkeyCache,
  produceBlock,
  SigningDomains,
  signAttestation,
  toHex,
} from "@metronome/chain";
import { Logger } from "@metronome/common";
import type { ChainService } from "../../src/chain/chainService.ts";
import { BeaconNode } from "../../src/node/beaconNode.ts";

const N = 4;
const SLOT_MS = 4000;
const validators = interopValidators(N);
// Genesis 5 s ago: the clock is in slot 1, so a slot-1 block and vote are current.
const genesisTime = Math.floor(Date.now() / 1000) - 5;
const genesis = createGenesisState(genesisTime, validators);
const genesisBlock = createGenesisBlock(genesis);
const domains = new SigningDomains(computeForkDigest(genesis));

let dir = "";
let node: BeaconNode | null = null;
let base = "";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  await new Promise((r) => server.close(r));
  return address.port;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "metronome-api-replay-"));
  const httpPort = await freePort();
  base = `http://127.0.0.1:${httpPort}`;
  node = await BeaconNode.start(
    {
      chain: {
        genesisTime,
        slotDurationMs: SLOT_MS,
        attestationCommitteeCount: 1,
        validators,
        forkDigest: forkDigestHex(computeForkDigest(genesis)),
      },
      nodeId: 0,
      identitySeed: new Uint8Array(randomBytes(32)),
      dataDir: join(dir, "data"),
      listen: "/ip4/127.0.0.1/tcp/0",
      bootnodes: [],
      validatorIndices: [],
      isAggregator: false,
      httpHost: "127.0.0.1",
      // The block is POSTed to the validator routes, which are off unless enabled.
      validatorApi: true,
      apiTokenFile: undefined,
      doppelgangerSlots: 0,
      httpPort,
      metricsPort: 0,
      checkpointSyncUrl: undefined,
      maxBatch: 64,
      blsWorkers: 0,
    },
    new Logger({ level: "error", format: "text", write: () => {} }),
  );
});

after(async () => {
  await node?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("HTTP API block import", () => {
  it("replays a vote buffered for the block the moment the block is POSTed", async () => {
    assert.ok(node);
    // White-box: the test reads the chain's pending buffer and store behind the BeaconChain interface.
    const chain = node.chain as ChainService;
    // A slot-1 block from another node's view of the same genesis.
    const other = new ForkChoiceStore(genesis, genesisBlock, new PubkeyCache(validators), domains);
    const signed = produceBlock(other, 1, 1, interopSecretKey(1));
    const root = Block.hashTreeRoot(signed.block);
    const vote = signAttestation(
      interopSecretKey(2),
      2,
      {
        slot: 1,
        head: { root, slot: 1 },
        target: { root, slot: 1 },
        source: { root: Block.hashTreeRoot(genesisBlock), slot: 0 },
      },
      domains,
    );
    assert.deepEqual(chain.onAttestation(vote), { status: "buffered", reason: "unknown_block" });
    const acceptedBefore = chain.pendingSingle.stats().replayOutcomes.accepted;

    const res = await fetch(`${base}/lean/v0/validator/block`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ block: Block.toJson(signed.block), signature: toHex(signed.signature) }),
    });
    const body = (await res.json()) as { data?: { status?: string } };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.data?.status, "imported");
    // Checked as soon as the response is in: not left for the next slot's periodic replay.
    assert.equal(chain.pendingSingle.size, 0, "the buffered vote left the buffer");
    assert.equal(chain.pendingSingle.stats().replayOutcomes.accepted, acceptedBefore + 1);
    const stored = chain.store.getNewVote(2) ?? chain.store.getKnownVote(2);
    assert.equal(stored && toHex(stored.head.root), toHex(root), "validator 2's vote reached the store");
  });
});

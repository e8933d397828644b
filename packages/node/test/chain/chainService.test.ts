import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type AggregateSignatureInput,
  type BlsVerifier,
  BlsVerifierError,
  BlsVerifierErrorCode,
  MainThreadVerifier,
  type SignatureSetInput,
} from "@metronome/bls";
import {
  aggregateAttestations,
  Block,
  computeForkDigest,
  ForkChoiceStore,
  interopSecretKey,
  produceBlock,
  type SignedAggregatedAttestation,
  type SignedBlock,
  signAttestation,
} from "@metronome/chain";
import { SlotClock } from "@metronome/clock";
import { Logger } from "@metronome/common";
import { BLOCK_SOURCES, ChainEvents } from "../../src/chain/chainEvents.ts";
import { type ChainObserver, ChainService } from "../../src/chain/chainService.ts";
import { ChainDb } from "../../src/db/chainDb.ts";
import { GossipIngress } from "../../src/node/gossipIngress.ts";
import { PendingAttestationBuffer } from "../../src/runtime/pendingBuffer.ts";
import { OrphanBlocks } from "../../src/sync/orphanBlocks.ts";
import type { SyncService } from "../../src/sync/syncService.ts";
import { SyncTracker } from "../../src/sync/syncState.ts";
import { interopGenesis } from "../interopGenesis.ts";

const N = 4;
const keys = Array.from({ length: N }, (_, i) => interopSecretKey(i));
const { genesis, genesisBlock, domains, pubkeys } = interopGenesis(N);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function makeChain(observer?: ChainObserver) {
  const dir = await mkdtemp(join(tmpdir(), "metronome-chain-"));
  dirs.push(dir);
  const db = await ChainDb.open(dir, computeForkDigest(genesis));
  const store = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
  const wanted: string[] = [];
  const chain = new ChainService({
    store,
    db,
    events: new ChainEvents(),
    logger: new Logger({ level: "error", format: "text", write: () => {} }),
    fetcher: {
      want: (root) => {
        wanted.push(Buffer.from(root).toString("hex"));
        return "queued";
      },
      onBlockImported: () => {},
    },
    pendingSingle: new PendingAttestationBuffer({ kind: "single" }),
    pendingAggregated: new PendingAttestationBuffer({ kind: "aggregated" }),
    orphans: new OrphanBlocks(),
    observer,
  });
  return { chain, store, db, wanted };
}

/** A block for `slot` built by an independent store (so `chain` has not seen it). */
function blockFromOtherNode(slot: number): SignedBlock {
  const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
  const proposer = slot % N;
  return produceBlock(other, slot, proposer, keys[proposer] as ReturnType<typeof interopSecretKey>);
}

type SecretKey = ReturnType<typeof interopSecretKey>;

/** A vote by validator `index` (signed with `signer`'s key: a different signer makes it invalid). */
function voteFor(root: Uint8Array, slot: number, index: number, signer = index) {
  const data = {
    slot,
    head: { root, slot },
    target: { root, slot },
    source: { root: Block.hashTreeRoot(genesisBlock), slot: 0 },
  };
  return signAttestation(keys[signer] as SecretKey, index, data, domains);
}

/** An aggregate of validators 0 and 1 voting for `root`; `valid: false` has validator 2 sign for 1. */
function aggregateFor(root: Uint8Array, slot: number, valid: boolean): SignedAggregatedAttestation {
  const [agg] = aggregateAttestations([voteFor(root, slot, 0), voteFor(root, slot, 1, valid ? 1 : 2)]);
  assert.ok(agg);
  return agg;
}

describe("ChainService", () => {
  // Every import path, the HTTP API ("api") and a restart's replay included (PROTOCOL.md section 6).
  for (const source of BLOCK_SOURCES) {
    it(`replays the pending buffer after an import via ${source}`, async () => {
      const { chain, store, db, wanted } = await makeChain();
      const block = blockFromOtherNode(1);
      const root = Block.hashTreeRoot(block.block);
      store.onTick(1 * 5 + 1, false);
      // A vote for a block this node has not seen: the signature is checked, then it waits.
      const data = {
        slot: 1,
        head: { root, slot: 1 },
        target: { root, slot: 1 },
        source: { root: Block.hashTreeRoot(genesisBlock), slot: 0 },
      };
      const att = signAttestation(keys[2] as ReturnType<typeof interopSecretKey>, 2, data, domains);
      assert.deepEqual(chain.onAttestation(att), { status: "buffered", reason: "unknown_block" });
      assert.equal(chain.pendingSingle.size, 1);
      assert.deepEqual(wanted, [Buffer.from(root).toString("hex")], "the unknown block was asked for");

      assert.equal(chain.importBlock(block, source).status, "imported");
      assert.equal(chain.pendingSingle.size, 0);
      assert.equal(chain.pendingSingle.stats().replayOutcomes.accepted, 1);
      assert.equal(store.getNewVote(2)?.head.slot, 1, "the replayed vote reached the store");
      await chain.flush();
      await db.close();
    });
  }

  it("keeps a vote whose block is still unknown across an unrelated import without re-validating it", async () => {
    const { chain, store, db } = await makeChain();
    store.onTick(1 * 5 + 1, false);
    const missing = new Uint8Array(32).fill(7);
    const data = {
      slot: 1,
      head: { root: missing, slot: 1 },
      target: { root: missing, slot: 1 },
      source: { root: Block.hashTreeRoot(genesisBlock), slot: 0 },
    };
    const att = signAttestation(keys[2] as ReturnType<typeof interopSecretKey>, 2, data, domains);
    assert.deepEqual(chain.onAttestation(att), { status: "buffered", reason: "unknown_block" });
    // Replays run after every import, over the whole buffer: an entry still waiting for its block
    // must cost lookups, not a thrown rejection.
    let validations = 0;
    const validate = store.validateAttestationData.bind(store);
    store.validateAttestationData = (d) => {
      validations++;
      validate(d);
    };
    assert.equal(chain.importBlock(blockFromOtherNode(1), "gossip").status, "imported");
    assert.equal(chain.pendingSingle.size, 1, "still buffered");
    assert.equal(chain.pendingSingle.stats().replayOutcomes.buffered, 1);
    assert.equal(validations, 0);
    await chain.flush();
    await db.close();
  });

  it("drops a buffered vote with a bad signature before buffering it", async () => {
    const { chain, db } = await makeChain();
    const unknown = new Uint8Array(32).fill(9);
    const data = {
      slot: 0,
      head: { root: unknown, slot: 0 },
      target: { root: unknown, slot: 0 },
      source: { root: unknown, slot: 0 },
    };
    const att = signAttestation(keys[1] as ReturnType<typeof interopSecretKey>, 2, data, domains);
    assert.deepEqual(chain.onAttestation(att), { status: "rejected", code: "INVALID_SIGNATURE" });
    assert.equal(chain.pendingSingle.size, 0);
    await db.close();
  });

  it("rejects a block with an unknown parent and a bad signature instead of caching it", async () => {
    const { chain, db, wanted } = await makeChain();
    const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
    const b1 = produceBlock(other, 1, 1, keys[1] as ReturnType<typeof interopSecretKey>);
    other.onBlock(b1, { verifySignatures: false });
    const b2 = produceBlock(other, 2, 2, keys[2] as ReturnType<typeof interopSecretKey>);
    const forged = { ...b2, signature: new Uint8Array(b2.signature).fill(0xc0, 0, 1).fill(0, 1) };
    const outcome = chain.importBlock(forged, "gossip");
    assert.equal(outcome.status, "invalid");
    assert.equal(chain.orphans.size, 0, "not cached");
    assert.deepEqual(wanted, [], "its parent is not fetched on its word");
    await db.close();
  });

  it("parks a block with an unknown parent, asks for the parent, and imports it when the parent arrives", async () => {
    const { chain, db, wanted, store } = await makeChain();
    const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
    const b1 = produceBlock(other, 1, 1, keys[1] as ReturnType<typeof interopSecretKey>);
    other.onBlock(b1, { verifySignatures: false });
    const b2 = produceBlock(other, 2, 2, keys[2] as ReturnType<typeof interopSecretKey>);
    assert.equal(chain.importBlock(b2, "gossip").status, "orphan");
    assert.deepEqual(wanted, [Buffer.from(Block.hashTreeRoot(b1.block)).toString("hex")]);
    assert.equal(chain.importBlock(b1, "blocks_by_root").status, "imported");
    assert.equal(store.head.slot, 2, "the parked child imported right after its parent");
    assert.equal(chain.orphans.size, 0);
    await chain.flush();
    // Every imported block is persisted.
    assert.ok(await db.hasBlock(Block.hashTreeRoot(b2.block)));
    await db.close();
  });

  it("counts signature verdicts by kind, leaves trusted votes out, and times checks and verdicts", async () => {
    const validated: number[] = [];
    const verified: string[] = [];
    const { chain, db } = await makeChain({
      attestationValidated: (seconds) => validated.push(seconds),
      signatureVerified: (kind, seconds) => {
        assert.ok(seconds >= 0);
        verified.push(kind);
      },
    });
    const block = blockFromOtherNode(1);
    assert.equal(chain.importBlock(block, "gossip").status, "imported");
    chain.onInterval(1 * 5 + 2, false);
    const root = Block.hashTreeRoot(block.block);
    const data = {
      slot: 1,
      head: { root, slot: 1 },
      target: { root, slot: 1 },
      source: { root: Block.hashTreeRoot(genesisBlock), slot: 0 },
    };
    const sign = (signer: number, index: number) =>
      signAttestation(keys[signer] as ReturnType<typeof interopSecretKey>, index, data, domains);
    assert.deepEqual(chain.onAttestation(sign(0, 0)), { status: "accepted" });
    assert.deepEqual(chain.onAttestation(sign(3, 3), { trusted: true }), { status: "accepted" });
    assert.deepEqual(chain.onAttestation(sign(1, 2)), { status: "rejected", code: "INVALID_SIGNATURE" });
    const [aggregate] = aggregateAttestations([sign(0, 0), sign(1, 1)]);
    assert.ok(aggregate);
    assert.deepEqual(chain.onAggregate(aggregate), { status: "accepted" });

    assert.deepEqual(chain.counters.signatures, {
      single: { valid: 1, invalid: 1 },
      aggregated: { valid: 1, invalid: 0 },
    });
    assert.equal(validated.length, 4, "every attestation's checks are timed, trusted ones included");
    assert.deepEqual(verified, ["single", "single", "aggregated"], "only checked signatures have a verdict time");
    await chain.flush();
    await db.close();
  });
  it("replays the pending buffer after orphan children are released by their parent's import", async () => {
    const { chain, store, db } = await makeChain();
    const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
    const b1 = produceBlock(other, 1, 1, keys[1] as SecretKey);
    other.onBlock(b1, { verifySignatures: false });
    const b2 = produceBlock(other, 2, 2, keys[2] as SecretKey);
    const b2Root = Block.hashTreeRoot(b2.block);
    store.onTick(2 * 5 + 1, false);
    // A vote for the child, which this node has not seen: checked, then buffered.
    assert.deepEqual(chain.onAttestation(voteFor(b2Root, 2, 3)), { status: "buffered", reason: "unknown_block" });
    assert.deepEqual(chain.onAggregate(aggregateFor(b2Root, 2, true)), { status: "buffered", reason: "unknown_block" });
    // The child arrives first and parks; no import, so nothing is replayed yet.
    assert.equal(chain.importBlock(b2, "gossip").status, "orphan");
    assert.equal(chain.pendingSingle.size, 1);
    // The parent arrives through the HTTP API; its import releases the child.
    assert.equal(chain.importBlock(b1, "api").status, "imported");
    assert.equal(store.head.slot, 2);
    assert.equal(chain.pendingSingle.size, 0, "the vote for the released child was replayed at once");
    assert.equal(chain.pendingAggregated.size, 0);
    assert.deepEqual(store.getNewVote(3)?.head.root, b2Root, "validator 3's vote for the child reached the store");
    assert.deepEqual(store.getNewVote(0)?.head.root, b2Root, "so did the aggregate's");
    await chain.flush();
    await db.close();
  });

  it("never lets a buffered aggregate with a bad signature reach the store, even once its block arrives", async () => {
    const { chain, store, db } = await makeChain();
    const block = blockFromOtherNode(1);
    const root = Block.hashTreeRoot(block.block);
    store.onTick(1 * 5 + 1, false);
    // Same shape, block unknown: the good one waits, the bad one is refused before buffering.
    assert.deepEqual(chain.onAggregate(aggregateFor(root, 1, false)), {
      status: "rejected",
      code: "INVALID_SIGNATURE",
    });
    assert.equal(chain.pendingAggregated.size, 0);
    assert.deepEqual(chain.counters.signatures.aggregated, { valid: 0, invalid: 1 });
    assert.equal(chain.importBlock(block, "gossip").status, "imported");
    assert.equal(store.getNewVote(0), undefined, "no vote from the forged aggregate");
    assert.equal(store.aggregatePool.size, 0, "and nothing for block building");
    // The control: the same aggregate correctly signed is buffered and then applied.
    const { chain: chain2, store: store2, db: db2 } = await makeChain();
    store2.onTick(1 * 5 + 1, false);
    assert.deepEqual(chain2.onAggregate(aggregateFor(root, 1, true)), { status: "buffered", reason: "unknown_block" });
    assert.equal(chain2.importBlock(block, "gossip").status, "imported");
    assert.deepEqual(store2.getNewVote(0)?.head.root, root);
    assert.equal(store2.aggregatePool.size, 1);
    await chain.flush();
    await chain2.flush();
    await db.close();
    await db2.close();
  });

  it("through the gossip ingress and its verifier, a forged aggregate for an unknown block is rejected, not buffered", async () => {
    const { chain, store, db } = await makeChain();
    const block = blockFromOtherNode(1);
    const root = Block.hashTreeRoot(block.block);
    store.onTick(1 * 5 + 1, false);
    const nowMs = 1 * 4000 + 900; // slot 1, so the aggregates are not from the future
    const ingress = new GossipIngress({
      chain,
      sync: { tracker: new SyncTracker(() => {}, true) } as unknown as SyncService,
      clock: new SlotClock({ genesisTimeSec: 0, now: () => nowMs }),
      logger: new Logger({ level: "error", format: "text", write: () => {} }),
      verifier: new MainThreadVerifier(),
    });
    const forged = ingress.enqueueAggregate(aggregateFor(root, 1, false), "attacker");
    const honest = ingress.enqueueAggregate(aggregateFor(root, 1, true), "honest");
    assert.equal(ingress.runBatch(64), 2);
    // The verifier answers asynchronously; the next pass applies its verdicts.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ingress.verifiedWaiting, 2);
    assert.equal(ingress.runBatch(64), 2);
    assert.equal(await forged, "reject");
    assert.equal(await honest, "ignore", "buffered: ignored on gossip until its block is known");
    assert.equal(chain.pendingAggregated.size, 1, "only the honest aggregate waits");
    assert.equal(chain.pendingAggregated.toArray()[0]?.aggregationBits.getTrueBitIndexes().length, 2);
    assert.deepEqual(chain.counters.signatures.aggregated, { valid: 1, invalid: 1 });
    const imported = ingress.enqueueBlock(block, "gossip", "honest");
    assert.equal(ingress.runBatch(64), 1);
    assert.equal(await imported, "accept");
    assert.equal(chain.pendingAggregated.stats().replayOutcomes.accepted, 1);
    assert.equal(store.aggregatePool.size, 1);
    await chain.flush();
    await db.close();
  });

  it("through the gossip ingress, an aggregate adding no participant to the one held is ignored before the verifier", async () => {
    const { chain, store, db } = await makeChain();
    const block = blockFromOtherNode(1);
    const root = Block.hashTreeRoot(block.block);
    store.onTick(1 * 5 + 1, false);
    assert.equal(chain.importBlock(block, "gossip").status, "imported");
    const verifier = new MainThreadVerifier();
    let setsVerified = 0;
    const verifySets = verifier.verifySets.bind(verifier);
    verifier.verifySets = (sets) => {
      setsVerified += sets.length;
      return verifySets(sets);
    };
    const ingress = new GossipIngress({
      chain,
      sync: { tracker: new SyncTracker(() => {}, true) } as unknown as SyncService,
      clock: new SlotClock({ genesisTimeSec: 0, now: () => 1 * 4000 + 900 }),
      logger: new Logger({ level: "error", format: "text", write: () => {} }),
      verifier,
    });
    const of = (indices: number[]) => aggregateAttestations(indices.map((i) => voteFor(root, 1, i)))[0]!;
    /** Gossips `agg` through the ingress: one pass to check it, one to apply the verdict if verified. */
    const gossip = async (agg: SignedAggregatedAttestation) => {
      const verdict = ingress.enqueueAggregate(agg, "peer");
      ingress.runBatch(64);
      await new Promise((resolve) => setImmediate(resolve));
      if (ingress.verifiedWaiting > 0) ingress.runBatch(64);
      return verdict;
    };
    assert.equal(await gossip(of([0, 1])), "accept");
    assert.equal(setsVerified, 1);
    assert.equal(chain.aggregateAlreadyKnown(of([1])), true);
    assert.equal(await gossip(of([1])), "ignore", "a subset: no new vote");
    assert.equal(await gossip(of([0, 1])), "ignore", "equal participants (another aggregator's copy): no new vote");
    assert.equal(setsVerified, 1, "neither reached the verifier");
    assert.equal(ingress.drops.aggregated.already_known, 2);
    // A superset carries validator 2's vote: verified and counted.
    assert.equal(await gossip(of([0, 1, 2])), "accept");
    assert.equal(setsVerified, 2);
    assert.deepEqual(store.aggregatePool.get(of([0]).data)?.aggregationBits.getTrueBitIndexes(), [0, 1, 2]);
    // The node's own aggregate (and an API client's) takes the other path, and is never refused as known.
    assert.deepEqual(chain.onAggregate(of([2]), { trusted: true }), { status: "accepted" });
    assert.equal(ingress.drops.aggregated.already_known, 2);
    await chain.flush();
    await db.close();
  });

  it("hashes a block's root once per import and carries it (orphan park, release, store, database, events)", async (t) => {
    const { chain, store, db } = await makeChain();
    const parent = blockFromOtherNode(1);
    const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
    other.onBlock(parent);
    const child = produceBlock(other, 2, 2, keys[2] as SecretKey);
    store.onTick(2 * 5 + 1, false);
    const hashed: number[] = [];
    const original = Block.hashTreeRoot.bind(Block);
    t.mock.method(Block, "hashTreeRoot", (block: Parameters<typeof Block.hashTreeRoot>[0]) => {
      hashed.push(block.slot);
      return original(block);
    });
    // The child first: it parks as an orphan, then imports when its parent arrives.
    assert.equal(chain.importBlock(child, "gossip").status, "orphan");
    assert.equal(chain.importBlock(parent, "gossip").status, "imported");
    assert.equal(store.head.slot, 2);
    // Per block: one root at import plus one inside its signing root (signature verification).
    assert.deepEqual(
      hashed.sort((a, b) => a - b),
      [1, 1, 2, 2],
      "each block hashed once at import and once for its signature",
    );
    await chain.flush();
    await db.close();
  });
});

describe("ChainService + GossipIngress: block signatures are checked by the verifier, off the driver thread", () => {
  /** A verifier whose block verdicts wait until the test releases them, in any order. */
  function heldVerifier(answer: (input: AggregateSignatureInput) => Promise<boolean>) {
    const real = new MainThreadVerifier({ validatorKeys: pubkeys.all() });
    const held: { input: AggregateSignatureInput; release: () => void }[] = [];
    const verifier = {
      verifySets: (sets: readonly SignatureSetInput[]) => real.verifySets(sets),
      capacityLeft: () => real.capacityLeft(),
      validatorCount: () => real.validatorCount(),
      stats: () => real.stats(),
      close: () => real.close(),
      verifyAggregateSignature: (input: AggregateSignatureInput) =>
        new Promise<boolean>((resolve, reject) => {
          held.push({ input, release: () => answer(input).then(resolve, reject) });
        }),
    } satisfies BlsVerifier;
    return { verifier, held, real };
  }

  function ingressAt(chain: ChainService, verifier: BlsVerifier, slot: number, limits = {}) {
    const nowMs = slot * 4000 + 900;
    return new GossipIngress({
      chain,
      sync: { tracker: new SyncTracker(() => {}, true) } as unknown as SyncService,
      clock: new SlotClock({ genesisTimeSec: 0, now: () => nowMs }),
      logger: new Logger({ level: "error", format: "text", write: () => {} }),
      verifier,
      limits,
    });
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  /** Parent at slot 1, its child at slot 2, both by other nodes. */
  function parentAndChild(): [SignedBlock, SignedBlock] {
    const parent = blockFromOtherNode(1);
    const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
    other.onBlock(parent);
    return [parent, produceBlock(other, 2, 2, keys[2] as SecretKey)];
  }

  it("the driver imports on the verifier's word: it does not redo the pairings (a forged block the verifier vouches for goes in)", async () => {
    const { chain, store, db } = await makeChain();
    store.onTick(1 * 5 + 1, false);
    const block = blockFromOtherNode(1);
    const forged = { ...block, signature: (keys[3] as SecretKey).sign(new Uint8Array(32)).toBytes() };
    const { verifier, held } = heldVerifier(async () => true);
    const ingress = ingressAt(chain, verifier, 1);
    const verdict = ingress.enqueueBlock(forged, "gossip", "p");
    assert.equal(ingress.runBatch(16), 1, "the block's checks ran and its signature went to the verifier");
    assert.equal(held.length, 1);
    assert.equal(held[0]?.input.messages.length, 1 + block.block.body.attestations.length);
    assert.deepEqual(held[0]?.input.signers[0], [block.block.proposerIndex]);
    assert.equal(ingress.hasWork(), false, "nothing to do until the verdict is back");
    assert.equal(ingress.runBatch(16), 0);
    assert.equal(store.hasBlock(Block.hashTreeRoot(block.block)), false, "not imported before its verdict");
    held[0]?.release();
    await settle();
    assert.equal(ingress.hasWork(), true);
    assert.equal(ingress.runBatch(16), 1);
    assert.equal(await verdict, "accept");
    assert.equal(store.hasBlock(Block.hashTreeRoot(block.block)), true);
    await chain.flush();
    await db.close();
  });

  it("imports in arrival order when the verdicts come back out of order (no orphan, no fetch)", async () => {
    const { chain, store, db, wanted } = await makeChain();
    store.onTick(2 * 5 + 1, false);
    const [parent, child] = parentAndChild();
    const { verifier, held, real } = heldVerifier((input) => real.verifyAggregateSignature(input));
    const ingress = ingressAt(chain, verifier, 2);
    const parentVerdict = ingress.enqueueBlock(parent, "gossip", "p");
    const childVerdict = ingress.enqueueBlock(child, "gossip", "p");
    assert.equal(ingress.runBatch(16), 2);
    assert.equal(held.length, 2, "both signatures with the verifier at once");
    held[1]?.release();
    await settle();
    assert.equal(ingress.hasWork(), false, "the child's verdict waits for its parent's");
    held[0]?.release();
    await settle();
    assert.equal(ingress.runBatch(16), 2);
    assert.equal(await parentVerdict, "accept");
    assert.equal(await childVerdict, "accept");
    assert.equal(store.hasBlock(Block.hashTreeRoot(child.block)), true);
    assert.deepEqual(wanted, [], "the child never looked like an orphan");
    assert.equal(chain.counters.blocksOrphaned, 0);
    await chain.flush();
    await db.close();
  });

  it("a signature the verifier refuses: REJECT, counted invalid, not imported", async () => {
    const { chain, store, db } = await makeChain();
    store.onTick(1 * 5 + 1, false);
    const block = blockFromOtherNode(1);
    const forged = { ...block, signature: (keys[3] as SecretKey).sign(new Uint8Array(32)).toBytes() };
    const { verifier, held, real } = heldVerifier((input) => real.verifyAggregateSignature(input));
    const ingress = ingressAt(chain, verifier, 1);
    const verdict = ingress.enqueueBlock(forged, "gossip", "p");
    ingress.runBatch(16);
    held[0]?.release();
    await settle();
    assert.equal(ingress.runBatch(16), 1);
    assert.equal(await verdict, "reject");
    assert.equal(chain.counters.blocksInvalid, 1);
    assert.equal(store.hasBlock(Block.hashTreeRoot(block.block)), false);
    await chain.flush();
    await db.close();
  });

  it("a verifier that cannot answer: the block is checked at import instead (counted), and a forged one is still refused", async () => {
    const { chain, store, db } = await makeChain();
    store.onTick(1 * 5 + 1, false);
    const block = blockFromOtherNode(1);
    const other = blockFromOtherNode(1);
    const forged = { ...other, block: { ...other.block, stateRoot: new Uint8Array(32).fill(7) } };
    const failing = async () => {
      throw new BlsVerifierError(BlsVerifierErrorCode.WORKER_FAILED, "worker died");
    };
    const { verifier, held } = heldVerifier(failing);
    const ingress = ingressAt(chain, verifier, 1);
    const good = ingress.enqueueBlock(block, "gossip", "p");
    const bad = ingress.enqueueBlock(forged, "gossip", "p");
    assert.equal(ingress.runBatch(16), 2);
    for (const h of held) h.release();
    await settle();
    assert.equal(ingress.runBatch(16), 2);
    assert.equal(await good, "accept");
    assert.equal(await bad, "reject", "checked on this thread: the tampered block does not verify");
    assert.equal(ingress.blockSignatureFallbacks, 2);
    assert.equal(ingress.dropCounters().block_signature_fallback, 2);
    await chain.flush();
    await db.close();
  });

  it("holds at most blocksInVerification with the verifier; the rest wait in the block queue", async () => {
    const { chain, store, db } = await makeChain();
    store.onTick(1 * 5 + 1, false);
    const { verifier, held, real } = heldVerifier((input) => real.verifyAggregateSignature(input));
    const ingress = ingressAt(chain, verifier, 1, { blocksInVerification: 2 });
    const verdicts = [0, 1, 2].map((proposer) => {
      const block = blockFromOtherNode(1);
      const variant = { ...block, block: { ...block.block, stateRoot: new Uint8Array(32).fill(proposer) } };
      return ingress.enqueueBlock(proposer === 0 ? block : variant, "gossip", "p");
    });
    assert.equal(ingress.runBatch(16), 2);
    assert.equal(held.length, 2);
    assert.equal(ingress.blocksInVerification, 2);
    assert.equal(ingress.blocks.size, 1, "the third waits in its queue");
    assert.equal(ingress.hasWork(), false);
    for (const h of held) h.release();
    await settle();
    assert.equal(ingress.runBatch(16), 2, "the two verdicts are applied");
    assert.equal(ingress.runBatch(16), 1, "then the third goes to the verifier");
    assert.equal(held.length, 3);
    held[2]?.release();
    await settle();
    ingress.runBatch(16);
    assert.deepEqual(await Promise.all(verdicts), ["accept", "reject", "reject"]);
    await chain.flush();
    await db.close();
  });
});

// ChainService's finality and persistence path against a real LevelDB: a finality write that
// fails is retried or superseded without losing the skipped range (the reproduced fault deleted
// genesis and slot 1), and the write queue's bound defers imports instead of growing.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  Block,
  type Checkpoint,
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  type ForkChoiceStore,
  interopValidators,
  rootKey,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
} from "@metronome/chain";
import { Logger } from "@metronome/common";
import { ChainEvents } from "../../src/chain/chainEvents.ts";
import { ChainService } from "../../src/chain/chainService.ts";
import { ChainDb } from "../../src/db/chainDb.ts";
import type { WriteQueueLimits } from "../../src/db/writeQueue.ts";
import { PendingAttestationBuffer } from "../../src/runtime/pendingBuffer.ts";
import { OrphanBlocks } from "../../src/sync/orphanBlocks.ts";

const genesisState = createGenesisState(0, interopValidators(4));
const genesis: SignedBlockValue = { block: createGenesisBlock(genesisState), signature: new Uint8Array(96) };
const genesisRoot = Block.hashTreeRoot(genesis.block);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Stored {
  slot: number;
  root: Uint8Array;
}

/** Only what the finality path reads: finalized checkpoint, its state and block, and ticks. */
class FinalityOnlyStore {
  latestFinalized: Checkpoint = { slot: 0, root: genesisRoot };
  /** Where the next tick moves finality to. */
  next: Checkpoint | null = null;
  onTick(): [] {
    if (this.next !== null) this.latestFinalized = this.next;
    this.next = null;
    return [];
  }
  hasBlock(): boolean {
    return false;
  }
  getState(): typeof genesisState {
    return genesisState;
  }
  getBlock(): { stateRoot: Uint8Array } {
    return { stateRoot: new Uint8Array(32) };
  }
}

async function setup(writeLimits: Partial<WriteQueueLimits> = { retryBaseMs: 1, retryMaxMs: 5 }) {
  const dir = await mkdtemp(join(tmpdir(), "metronome-chain-finality-"));
  dirs.push(dir);
  const db = await ChainDb.open(dir, computeForkDigest(genesisState));
  await db.putBlock(genesisRoot, genesis);
  await db.finalize({ slot: 0, root: genesisRoot }, State.serialize(genesisState));
  const store = new FinalityOnlyStore();
  const chain = new ChainService({
    store: store as unknown as ForkChoiceStore,
    db,
    events: new ChainEvents(),
    logger: new Logger({ level: "error", format: "text", write: () => {} }),
    fetcher: { want: () => "queued", onBlockImported: () => {} },
    pendingSingle: new PendingAttestationBuffer({ kind: "single" }),
    pendingAggregated: new PendingAttestationBuffer({ kind: "aggregated" }),
    orphans: new OrphanBlocks(),
    writeLimits,
  });
  // A canonical chain 0..8 with an orphan at every slot, as imports would have stored it.
  const canonical: Stored[] = [{ slot: 0, root: genesisRoot }];
  const orphans: Stored[] = [];
  for (let slot = 1; slot <= 8; slot++) {
    const parent = (canonical[slot - 1] as Stored).root;
    for (const tag of [0, 1]) {
      const b = SignedBlock.defaultValue();
      b.block.slot = slot;
      b.block.proposerIndex = tag;
      b.block.parentRoot = parent;
      const root = Block.hashTreeRoot(b.block);
      await db.putBlock(root, b);
      (tag === 0 ? canonical : orphans).push({ slot, root });
    }
  }
  /** Moves the store's finality to canonical slot `slot`, as a tick would. */
  const finalizeAt = (slot: number): void => {
    store.next = canonical[slot] as Stored;
    chain.onInterval(slot * 5, false);
  };
  return { db, chain, canonical, orphans, finalizeAt };
}

async function assertHistoryIntact(db: ChainDb, canonical: Stored[], upTo: number): Promise<void> {
  for (const c of canonical.filter((c) => c.slot <= upTo)) {
    assert.ok(await db.hasBlock(c.root), `canonical block at slot ${c.slot} was deleted`);
    const indexed = await db.getFinalizedRoot(c.slot);
    assert.equal(indexed && rootKey(indexed), rootKey(c.root), `finalized index at slot ${c.slot}`);
  }
}

describe("ChainService finality persistence", () => {
  it("retries a failed finality write until it lands (and reports the failures)", async () => {
    const { db, chain, canonical, finalizeAt } = await setup();
    const finalize = db.finalize.bind(db);
    let failures = 2;
    db.finalize = async (...args) => {
      if (failures-- > 0) throw new Error("EIO: disk hiccup");
      return finalize(...args);
    };
    finalizeAt(3);
    await chain.flush();
    assert.equal((await db.getAnchorCheckpoint())?.slot, 3);
    await assertHistoryIntact(db, canonical, 3);
    const stats = chain.writes.stats();
    assert.deepEqual(stats.failures, { block: 0, finality: 2 });
    assert.equal(stats.consecutiveFailures, 0);
    await db.close();
  });

  it("a finality whose write failed, then superseded, loses nothing (the reproduced fault)", async () => {
    // The old code dropped the failed write and remembered slot 3 as persisted; the next
    // finality then pruned genesis, slots 1-2 as orphans.
    const { db, chain, canonical, orphans, finalizeAt } = await setup({ retryBaseMs: 30, retryMaxMs: 30 });
    const finalize = db.finalize.bind(db);
    // The write for slot 3 never succeeds (say its batch hits a bad sector); it must give way.
    db.finalize = async (checkpoint, stateBytes) => {
      if (checkpoint.slot === 3) throw new Error("EIO: disk hiccup");
      return finalize(checkpoint, stateBytes);
    };
    finalizeAt(3);
    const deadline = Date.now() + 5_000;
    while (chain.writes.stats().consecutiveFailures === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    finalizeAt(6);
    await chain.flush();
    assert.equal((await db.getAnchorCheckpoint())?.slot, 6);
    await assertHistoryIntact(db, canonical, 6);
    for (const o of orphans.filter((o) => o.slot <= 6)) assert.equal(await db.hasBlock(o.root), false);
    assert.equal(chain.writes.stats().superseded, 1);
    await db.close();
  });

  it("finality after finality, queued behind a slow write, indexes every slot", async () => {
    const { db, chain, canonical, finalizeAt } = await setup();
    for (const slot of [2, 4, 5, 7]) finalizeAt(slot);
    await chain.flush();
    await assertHistoryIntact(db, canonical, 7);
    await db.close();
  });

  it("defers an import when the write queue is at its bound, and takes it once there is room", async () => {
    const { db, chain } = await setup({ maxWrites: 1, retryBaseMs: 1, retryMaxMs: 1 });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const putBlockBytes = db.putBlockBytes.bind(db);
    db.putBlockBytes = async (...args) => {
      await held;
      return putBlockBytes(...args);
    };
    let rooms = 0;
    chain.writes.onRoom(() => rooms++);
    chain.writes.pushBlock({
      kind: "block",
      bytes: 1,
      label: "slow",
      run: () => db.putBlockBytes(genesisRoot, 0, SignedBlock.serialize(genesis)),
    });
    assert.equal(chain.acceptsBlocks(), false, "import is back-pressured");
    const block = SignedBlock.defaultValue();
    block.block.slot = 1;
    block.block.parentRoot = genesisRoot;
    const outcome = chain.importBlock(block, "gossip");
    assert.equal(outcome.status, "deferred");
    assert.equal(chain.writes.stats().refused, 1);
    release();
    await chain.flush();
    assert.equal(rooms, 1);
    assert.ok(chain.acceptsBlocks());
    await db.close();
  });
});

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  Block,
  createGenesisBlock,
  createGenesisState,
  interopValidators,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
} from "@metronome/chain";
import { ClassicLevel } from "classic-level";
import { ChainDb, DatabaseError } from "../src/db/chainDb.ts";
import { Bucket, key, metaKey } from "../src/db/keys.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "metronome-db-"));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const digest = Uint8Array.of(1, 2, 3, 4);
const state = createGenesisState(1000, interopValidators(2));
const genesis: SignedBlockValue = { block: createGenesisBlock(state), signature: new Uint8Array(96) };
const genesisRoot = Block.hashTreeRoot(genesis.block);

function blockAt(slot: number, parentRoot: Uint8Array): SignedBlockValue {
  const b = SignedBlock.defaultValue();
  b.block.slot = slot;
  b.block.parentRoot = parentRoot;
  return b;
}

describe("ChainDb", () => {
  it("stores blocks and replays the ones after a slot in slot order", async () => {
    const db = await ChainDb.open(await tempDir(), digest);
    const b3 = blockAt(3, genesisRoot);
    const b1 = blockAt(1, genesisRoot);
    await db.putBlock(Block.hashTreeRoot(b3.block), b3);
    await db.putBlock(Block.hashTreeRoot(b1.block), b1);
    assert.ok(await db.hasBlock(Block.hashTreeRoot(b1.block)));
    const slots: number[] = [];
    for await (const b of db.blocksAfter(0)) slots.push(b.block.slot);
    assert.deepEqual(slots, [1, 3]);
    const later: number[] = [];
    for await (const b of db.blocksAfter(1)) later.push(b.block.slot);
    assert.deepEqual(later, [3]);
    await db.close();
  });

  it("persists the finalized anchor and canonical index across reopen", async () => {
    const dir = await tempDir();
    const db = await ChainDb.open(dir, digest);
    assert.equal(await db.getAnchor(), null);
    await db.putBlock(genesisRoot, genesis);
    await db.finalize({ root: genesisRoot, slot: 0 }, State.serialize(state));
    await db.close();
    const reopened = await ChainDb.open(dir, digest);
    const anchor = await reopened.getAnchor();
    assert.ok(anchor);
    assert.equal(anchor.checkpoint.slot, 0);
    assert.deepEqual(anchor.checkpoint.root, genesisRoot);
    assert.deepEqual(await reopened.getFinalizedRoot(0), genesisRoot);
    assert.deepEqual(
      (await reopened.finalizedRoots(0, 10)).map((r) => r.slot),
      [0],
    );
    await reopened.close();
  });

  it("refuses a data dir of another chain", async () => {
    const dir = await tempDir();
    await (await ChainDb.open(dir, digest)).close();
    await assert.rejects(ChainDb.open(dir, Uint8Array.of(9, 9, 9, 9)), (e: unknown) => {
      return e instanceof DatabaseError && /belongs to chain/.test(e.message);
    });
  });

  it("refuses to start over when an initialized data dir lost its identity or anchor", async () => {
    const dir = await tempDir();
    const db = await ChainDb.open(dir, digest);
    await db.putBlock(genesisRoot, genesis);
    await db.finalize({ root: genesisRoot, slot: 0 }, State.serialize(state));
    await db.markInitialized();
    await db.close();
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await raw.del(metaKey("anchor"));
    await raw.close();
    const noAnchor = await ChainDb.open(dir, digest);
    await assert.rejects(
      noAnchor.getAnchor(),
      (e: unknown) => e instanceof DatabaseError && /no fork-choice anchor/.test(e.message),
    );
    await noAnchor.close();
    const raw2 = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await raw2.del(metaKey("fork_digest"));
    await raw2.close();
    await assert.rejects(
      ChainDb.open(dir, digest),
      (e: unknown) => e instanceof DatabaseError && /chain identity is gone/.test(e.message),
    );
  });

  it("a data dir whose first start never completed initializes again", async () => {
    const dir = await tempDir();
    await (await ChainDb.open(dir, digest)).close();
    const db = await ChainDb.open(dir, digest);
    assert.equal(db.initialized, false);
    assert.equal(await db.getAnchor(), null);
    await db.close();
  });

  it("reports a corrupt anchor state as a DatabaseError, not a crash", async () => {
    const dir = await tempDir();
    const db = await ChainDb.open(dir, digest);
    await db.putBlock(genesisRoot, genesis);
    await db.finalize({ root: genesisRoot, slot: 0 }, State.serialize(state));
    await db.close();
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await raw.put(key(Bucket.state, genesisRoot), Uint8Array.of(1, 2, 3));
    await raw.close();
    const reopened = await ChainDb.open(dir, digest);
    await assert.rejects(reopened.getAnchor(), (e: unknown) => e instanceof DatabaseError && /corrupt/.test(e.message));
    await reopened.close();
  });
});

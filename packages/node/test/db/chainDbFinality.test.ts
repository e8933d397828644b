// Finality in the store: one synced batch, a keep-set derived from the canonical chain itself
// (never from the last anchor alone), and the start-up check that repairs or refuses.
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
  rootKey,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
} from "@metronome/chain";
import type { ClassicLevel } from "classic-level";
import { ChainDb, DatabaseError } from "../../src/db/chainDb.ts";
import { Bucket, key, slotBytes } from "../../src/db/keys.ts";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const digest = Uint8Array.of(1, 2, 3, 4);
const genesisState = createGenesisState(1000, interopValidators(2));
const stateBytes = State.serialize(genesisState);
const genesis: SignedBlockValue = { block: createGenesisBlock(genesisState), signature: new Uint8Array(96) };
const genesisRoot = Block.hashTreeRoot(genesis.block);

interface Stored {
  slot: number;
  root: Uint8Array;
}

/** A block at `slot` on `parent`; `tag` (the proposer index) tells siblings apart. */
function blockAt(slot: number, parentRoot: Uint8Array, tag = 0): SignedBlockValue {
  const b = SignedBlock.defaultValue();
  b.block.slot = slot;
  b.block.proposerIndex = tag;
  b.block.parentRoot = parentRoot;
  return b;
}

async function openFresh(): Promise<{ db: ChainDb; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "metronome-finality-"));
  dirs.push(dir);
  const db = await ChainDb.open(dir, digest);
  await db.putBlock(genesisRoot, genesis);
  await db.finalize({ root: genesisRoot, slot: 0 }, stateBytes);
  return { db, dir };
}

async function put(db: ChainDb, slot: number, parent: Uint8Array, tag = 0): Promise<Stored> {
  const b = blockAt(slot, parent, tag);
  const root = Block.hashTreeRoot(b.block);
  await db.putBlock(root, b);
  return { slot, root };
}

/** A canonical chain genesis..`length` (every slot filled) and a one-block orphan at each slot. */
async function chainWithOrphans(db: ChainDb, length: number): Promise<{ canonical: Stored[]; orphans: Stored[] }> {
  const canonical: Stored[] = [{ slot: 0, root: genesisRoot }];
  const orphans: Stored[] = [];
  for (let slot = 1; slot <= length; slot++) {
    const parent = (canonical[slot - 1] as Stored).root;
    canonical.push(await put(db, slot, parent));
    orphans.push(await put(db, slot, parent, 1));
  }
  return { canonical, orphans };
}

function rawLevel(db: ChainDb): ClassicLevel<Uint8Array, Uint8Array> {
  return (db as unknown as { db: ClassicLevel<Uint8Array, Uint8Array> }).db;
}

async function assertCanonicalKept(db: ChainDb, canonical: Stored[], upTo: number): Promise<void> {
  for (const c of canonical.filter((c) => c.slot <= upTo)) {
    assert.ok(await db.hasBlock(c.root), `canonical block at slot ${c.slot} was deleted`);
    const indexed = await db.getFinalizedRoot(c.slot);
    assert.ok(indexed !== null && rootKey(indexed) === rootKey(c.root), `slot ${c.slot} missing from the index`);
  }
}

describe("ChainDb.finalize", () => {
  it("writes index, anchor state, anchor pointer and pruning as ONE synced batch", async () => {
    const { db } = await openFresh();
    const { canonical, orphans } = await chainWithOrphans(db, 4);
    const raw = rawLevel(db);
    const writes: { kind: string; ops: number; sync: boolean }[] = [];
    const batch = raw.batch.bind(raw) as (ops: unknown, opts?: { sync?: boolean }) => Promise<void>;
    const spy = raw as unknown as Record<string, unknown>;
    spy.batch = async (ops: unknown[], opts?: { sync?: boolean }) => {
      writes.push({ kind: "batch", ops: ops.length, sync: opts?.sync === true });
      return batch(ops, opts);
    };
    spy.put = async () => writes.push({ kind: "put", ops: 1, sync: false });
    spy.del = async () => writes.push({ kind: "del", ops: 1, sync: false });
    const finalized = canonical[3] as Stored;
    const result = await db.finalize(finalized, stateBytes);
    assert.equal(writes.length, 1, `finality took ${writes.length} writes: ${JSON.stringify(writes)}`);
    assert.deepEqual({ kind: writes[0]?.kind, sync: writes[0]?.sync }, { kind: "batch", sync: true });
    assert.deepEqual(result, { indexed: 3, pruned: 3 });
    const anchor = await db.getAnchor();
    assert.equal(anchor?.checkpoint.slot, 3);
    await assertCanonicalKept(db, canonical, 3);
    for (const o of orphans.filter((o) => o.slot <= 3)) assert.equal(await db.hasBlock(o.root), false);
    await db.close();
  });

  it("prunes the orphans at or below finality and keeps everything above it for restart replay", async () => {
    // Guard: fails if the pruning is skipped.
    const { db } = await openFresh();
    const { canonical, orphans } = await chainWithOrphans(db, 5);
    await db.finalize(canonical[2] as Stored, stateBytes);
    for (const o of orphans) assert.equal(await db.hasBlock(o.root), o.slot > 2, `orphan at slot ${o.slot}`);
    const replay: number[] = [];
    for await (const b of db.blocksAfter(2)) replay.push(b.block.slot);
    assert.deepEqual(replay, [3, 3, 4, 4, 5, 5]);
    await db.close();
  });

  it("a finality that was never written (crash, failed write) is covered by the next one", async () => {
    // The reproduced fault: the previous finality (slot 4) was lost, the stored anchor is slot 2.
    // The keep-set must come from the chain, or slots 3-4 (and, with the old code, genesis) die.
    const { db } = await openFresh();
    const { canonical, orphans } = await chainWithOrphans(db, 8);
    await db.finalize(canonical[2] as Stored, stateBytes);
    const result = await db.finalize(canonical[7] as Stored, stateBytes);
    assert.equal(result.indexed, 5, "slots 3..7 indexed by the later finality");
    await assertCanonicalKept(db, canonical, 7);
    for (const o of orphans.filter((o) => o.slot <= 7)) assert.equal(await db.hasBlock(o.root), false);
    await db.close();
  });

  it("never prunes a finalized block whose slot-index entry comes back (re-put of an indexed block)", async () => {
    // Guard for the old "previous anchor in the keep-set": a block already in the finalized
    // index is kept even though the new finality's walk stops above it.
    const { db } = await openFresh();
    const { canonical } = await chainWithOrphans(db, 6);
    await db.finalize(canonical[3] as Stored, stateBytes);
    for (const c of canonical.slice(0, 4)) await db.putBlock(c.root, blockAt(c.slot, new Uint8Array(32)));
    // putBlock above rewrote bodies under the same roots; restore the right bodies for the walk.
    await db.putBlock(genesisRoot, genesis);
    for (const c of canonical.slice(1, 4)) {
      await db.putBlock(c.root, blockAt(c.slot, (canonical[c.slot - 1] as Stored).root));
    }
    await db.finalize(canonical[5] as Stored, stateBytes);
    await assertCanonicalKept(db, canonical, 5);
    await db.close();
  });

  it("a gap in the index below the stored anchor is filled by the next finality's walk", async () => {
    // A store written before this fix (or by a crash of it) may miss index entries below its
    // anchor; the walk goes down until it joins the index, not just to the anchor's slot.
    const { db } = await openFresh();
    const { canonical } = await chainWithOrphans(db, 6);
    await db.finalize(canonical[3] as Stored, stateBytes);
    const raw = rawLevel(db);
    await raw.del(key(Bucket.finalizedRoot, slotBytes(2)));
    await raw.del(key(Bucket.finalizedRoot, slotBytes(3)));
    await db.finalize(canonical[5] as Stored, stateBytes);
    await assertCanonicalKept(db, canonical, 5);
    await db.close();
  });

  it("random forks and finality sequences never lose a canonical block (property)", async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 8; round++) {
      const { db } = await openFresh();
      const canonical: Stored[] = [{ slot: 0, root: genesisRoot }];
      const all: Stored[] = [...canonical];
      let slot = 0;
      let finalized = 0;
      for (let step = 0; step < 30; step++) {
        slot += 1 + rand(2); // some slots empty
        const tip = canonical[canonical.length - 1] as Stored;
        canonical.push(await put(db, slot, tip.root));
        all.push(canonical[canonical.length - 1] as Stored);
        if (rand(2) === 0) {
          // An orphan off a random recent canonical block above finality.
          const candidates = canonical.filter((c) => c.slot >= finalized);
          const parent = candidates[rand(candidates.length)] as Stored;
          all.push(await put(db, parent.slot + 1 + rand(2), parent.root, 1 + rand(5)));
        }
        if (rand(4) === 0) {
          const options = canonical.filter((c) => c.slot > finalized && c.slot < slot);
          const target = options[rand(options.length)];
          if (target !== undefined) {
            await db.finalize(target, stateBytes);
            finalized = target.slot;
            await assertCanonicalKept(db, canonical, finalized);
            const canonicalKeys = new Set(canonical.map((c) => rootKey(c.root)));
            for (const b of all.filter((b) => b.slot <= finalized && !canonicalKeys.has(rootKey(b.root)))) {
              assert.equal(await db.hasBlock(b.root), false, `round ${round}: orphan at slot ${b.slot} kept`);
            }
          }
        }
      }
      await db.close();
    }
  });

  it("refuses a finality that descends from a block other than the one already finalized", async () => {
    const { db } = await openFresh();
    const { canonical, orphans } = await chainWithOrphans(db, 4);
    await db.finalize(canonical[2] as Stored, stateBytes);
    const onOrphan = await put(db, 4, (orphans[1] as Stored).root, 9); // orphan[1] is at slot 2
    await assert.rejects(db.finalize({ slot: 4, root: onOrphan.root }, stateBytes), (e: unknown) => {
      return e instanceof DatabaseError && /is not stored|the store finalized/.test(e.message);
    });
    assert.equal((await db.getAnchorCheckpoint())?.slot, 2, "the anchor did not move");
    await db.close();
  });

  it("refuses to index a canonical chain with a missing block", async () => {
    const { db } = await openFresh();
    const b1 = blockAt(1, genesisRoot);
    const r1 = Block.hashTreeRoot(b1.block);
    const s2 = await put(db, 2, r1); // slot 1 never stored
    await assert.rejects(
      db.finalize(s2, stateBytes),
      (e: unknown) => e instanceof DatabaseError && e.message.includes(rootKey(r1)),
    );
    assert.equal((await db.getAnchorCheckpoint())?.slot, 0);
    await db.close();
  });
});

describe("ChainDb.checkCanonicalChain (start-up invariant)", () => {
  it("passes a healthy store and repairs missing or wrong index entries from the parent links", async () => {
    const { db, dir } = await openFresh();
    const { canonical, orphans } = await chainWithOrphans(db, 6);
    await db.finalize(canonical[5] as Stored, stateBytes);
    assert.deepEqual({ ...(await db.checkCanonicalChain()), ms: 0 }, { blocks: 6, repaired: 0, ms: 0 });
    const raw = rawLevel(db);
    await raw.del(key(Bucket.finalizedRoot, slotBytes(0)));
    await raw.del(key(Bucket.finalizedRoot, slotBytes(3)));
    await raw.put(key(Bucket.finalizedRoot, slotBytes(4)), (orphans[0] as Stored).root);
    await db.close();
    const reopened = await ChainDb.open(dir, digest);
    const check = await reopened.checkCanonicalChain();
    assert.equal(check.repaired, 3);
    await assertCanonicalKept(reopened, canonical, 5);
    assert.equal((await reopened.checkCanonicalChain()).repaired, 0, "the repair was written");
    await reopened.close();
  });

  it("refuses with the missing block's root and slot when a finalized body is gone", async () => {
    const { db } = await openFresh();
    const { canonical } = await chainWithOrphans(db, 6);
    await db.finalize(canonical[5] as Stored, stateBytes);
    await rawLevel(db).del(key(Bucket.block, (canonical[2] as Stored).root));
    await assert.rejects(db.checkCanonicalChain(), (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.match(e.message, new RegExp(rootKey((canonical[2] as Stored).root)));
      assert.match(e.message, /parent of finalized slot 3/);
      assert.match(e.message, /resync/);
      return true;
    });
    await db.close();
  });

  it("stops at a checkpoint-sync base (its parent was never stored)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "metronome-finality-"));
    dirs.push(dir);
    const db = await ChainDb.open(dir, digest);
    const base = await put(db, 40, new Uint8Array(32).fill(3));
    await db.finalize(base, stateBytes);
    const next = await put(db, 41, base.root);
    const tip = await put(db, 43, next.root);
    await db.finalize(tip, stateBytes);
    assert.deepEqual(
      (await db.finalizedRoots(0, 100)).map((r) => r.slot),
      [40, 41, 43],
    );
    assert.equal((await db.checkCanonicalChain()).blocks, 3);
    await rawLevel(db).del(key(Bucket.block, base.root));
    await assert.rejects(db.checkCanonicalChain(), (e: unknown) => e instanceof DatabaseError);
    await db.close();
  });

  it("checks a few thousand finalized blocks quickly", async () => {
    const { db } = await openFresh();
    const BLOCKS = 5000;
    let parent = genesisRoot;
    let tip: Stored = { slot: 0, root: genesisRoot };
    for (let slot = 1; slot <= BLOCKS; slot++) {
      tip = await put(db, slot, parent);
      parent = tip.root;
    }
    await db.finalize(tip, stateBytes);
    const check = await db.checkCanonicalChain();
    assert.equal(check.blocks, BLOCKS + 1);
    // Generous: it is ~tens of ms here; the figure goes in docs/operations.md.
    assert.ok(check.ms < 5_000, `start-up check of ${BLOCKS} blocks took ${check.ms} ms`);
    console.log(`# start-up check: ${BLOCKS + 1} canonical blocks in ${check.ms.toFixed(1)} ms`);
    await db.close();
  });
});

// The store's start-up check: every canonical block from the finalized anchor back to the store's
// base is stored and the finalized index names exactly those blocks; an index that drifted is
// repaired from the parent links in one synced batch, a missing block is a DatabaseError.
import { Checkpoint, type Checkpoint as CheckpointValue, fromHex, rootKey } from "@metronome/chain";
import { blockLinks } from "./blockLinks.ts";
import { DatabaseError, decodeOrCorrupt } from "./dbErrors.ts";
import { Bucket, key, META_BASE, metaKey, readSlot, slotBytes } from "./keys.ts";
import type { BatchOp, Db } from "./levelDb.ts";

/** Blocks read per multi-get by the start-up check: bounds its memory on a long history. */
const CHECK_CHUNK_BLOCKS = 1024;

export interface StoreCheckResult {
  /** Canonical blocks checked, anchor to base. */
  blocks: number;
  /** Finalized-index entries rewritten or removed. */
  repaired: number;
  ms: number;
}

/**
 * The start-up invariant: every canonical block from the anchor back to the store's base
 * (genesis or the checkpoint-sync anchor) is stored, and the finalized index names exactly
 * those blocks. Index entries that are missing or wrong while the blocks are there are
 * recomputed from the parent links (one synced batch); a missing block cannot be repaired and
 * throws a DatabaseError naming it.
 */
export async function checkCanonicalChain(
  db: Db,
  path: string,
  anchor: CheckpointValue | null,
  started: number,
): Promise<StoreCheckResult> {
  if (anchor === null) return { blocks: 0, repaired: 0, ms: 0 };
  const baseBytes = await db.get(metaKey(META_BASE));
  const index = await indexedRootsUpTo(db, anchor.slot);
  // Stores written before the base was recorded: the lowest indexed block is the base.
  let base: CheckpointValue | null =
    baseBytes === undefined ? null : decodeOrCorrupt(Checkpoint, baseBytes, "base checkpoint", path);
  if (base === null) {
    const lowest = [...index.entries()].sort((a, b) => a[0] - b[0])[0];
    base = lowest === undefined ? null : { slot: lowest[0], root: fromHex(lowest[1]) };
  }
  if (baseBytes !== undefined && base !== null && (await indexIsIntact(db, path, anchor, base, index))) {
    return { blocks: index.size, repaired: 0, ms: performance.now() - started };
  }
  const ops: BatchOp[] = [];
  const onChain = new Set<number>();
  let cursor: Uint8Array = Uint8Array.from(anchor.root);
  let child: { slot: number } | null = null;
  for (;;) {
    const bytes = await db.get(key(Bucket.block, cursor));
    if (bytes === undefined) {
      const where = child === null ? "the anchor block" : `the parent of finalized slot ${child.slot}`;
      throw new DatabaseError(
        `database at ${path} is missing finalized block ${rootKey(cursor)} (${where}; anchor slot ${anchor.slot}): ` +
          "it cannot serve its finalized history. Move the data dir away and resync, from genesis or with --checkpoint-sync-url",
      );
    }
    const { slot, parentRoot } = blockLinks(bytes, cursor, path);
    if (child !== null && slot >= child.slot) {
      throw new DatabaseError(
        `database at ${path} is corrupt: block ${rootKey(cursor)} at slot ${slot} is the parent of slot ${child.slot}`,
      );
    }
    onChain.add(slot);
    if (index.get(slot) !== rootKey(cursor)) {
      ops.push({ type: "put", key: key(Bucket.finalizedRoot, slotBytes(slot)), value: cursor });
    }
    const atBase = base !== null && slot <= base.slot;
    if (atBase && base !== null && rootKey(base.root) !== rootKey(cursor)) {
      throw new DatabaseError(
        `database at ${path} is corrupt: the anchor's chain reaches slot ${slot} at ${rootKey(cursor)}, not the base block ${rootKey(base.root)} at slot ${base.slot}`,
      );
    }
    if (atBase || slot === 0) {
      if (baseBytes === undefined) {
        ops.push({ type: "put", key: metaKey(META_BASE), value: Checkpoint.serialize({ slot, root: cursor }) });
      }
      break;
    }
    child = { slot };
    cursor = parentRoot;
  }
  // Index entries off the anchor's chain (none should exist) would serve a wrong block.
  for (const slot of index.keys()) {
    if (!onChain.has(slot)) ops.push({ type: "del", key: key(Bucket.finalizedRoot, slotBytes(slot)) });
  }
  const repaired = ops.filter((op) => op.key[0] === Bucket.finalizedRoot).length;
  if (ops.length > 0) await db.batch(ops, { sync: true });
  return { blocks: onChain.size, repaired, ms: performance.now() - started };
}

/**
 * The fast path of the start-up check: the index, read in one scan and its blocks in a few
 * multi-gets, links anchor to base through parent roots with every block stored. Any doubt
 * sends the caller to the block-by-block walk, which also repairs.
 */
async function indexIsIntact(
  db: Db,
  path: string,
  anchor: CheckpointValue,
  base: CheckpointValue,
  index: Map<number, string>,
): Promise<boolean> {
  const entries = [...index.entries()].sort((a, b) => b[0] - a[0]);
  const top = entries[0];
  const bottom = entries[entries.length - 1];
  if (top === undefined || bottom === undefined) return false;
  if (top[0] !== anchor.slot || top[1] !== rootKey(anchor.root)) return false;
  if (bottom[0] !== base.slot || bottom[1] !== rootKey(base.root)) return false;
  for (let i = 0; i < entries.length; i += CHECK_CHUNK_BLOCKS) {
    const chunk = entries.slice(i, i + CHECK_CHUNK_BLOCKS);
    const blocks = await db.getMany(chunk.map(([, root]) => key(Bucket.block, fromHex(root))));
    for (let j = 0; j < chunk.length; j++) {
      const [slot, root] = chunk[j] as [number, string];
      const bytes = blocks[j];
      if (bytes === undefined) return false;
      const links = blockLinks(bytes, fromHex(root), path);
      if (links.slot !== slot) return false;
      const parent = entries[i + j + 1];
      if (parent !== undefined && rootKey(links.parentRoot) !== parent[1]) return false;
    }
  }
  return true;
}

/** The finalized index up to `maxSlot` as slot -> root key. */
async function indexedRootsUpTo(db: Db, maxSlot: number): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const range = { gte: Uint8Array.of(Bucket.finalizedRoot), lt: key(Bucket.finalizedRoot, slotBytes(maxSlot + 1)) };
  for await (const [k, root] of db.iterator(range)) out.set(readSlot(k, 1), rootKey(root));
  return out;
}

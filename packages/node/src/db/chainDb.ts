// The node's embedded store (LevelDB through classic-level). What must survive a SIGKILL: every
// finalized block and the finalized anchor state. Finality writes are one synced batch, so the
// anchor, its state and the canonical index can never disagree after a crash.

import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import {
  Checkpoint,
  type Checkpoint as CheckpointValue,
  decode,
  fromHex,
  rootKey,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
  type State as StateValue,
  toHex,
} from "@metronome/chain";
import { ClassicLevel } from "classic-level";
import { crashPoint } from "./crashHook.ts";
import { Bucket, bucketRange, key, metaKey, readSlot, slotBytes } from "./keys.ts";

export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

export interface FinalizeResult {
  /** Canonical blocks newly written to the finalized index. */
  indexed: number;
  /** Orphaned block bodies deleted. */
  pruned: number;
}

export interface StoreCheckResult {
  /** Canonical blocks checked, anchor to base. */
  blocks: number;
  /** Finalized-index entries rewritten or removed. */
  repaired: number;
  ms: number;
}

export interface Anchor {
  checkpoint: CheckpointValue;
  state: StateValue;
  block: SignedBlockValue;
}

const META_FORK_DIGEST = "fork_digest";
const META_ANCHOR = "anchor";
/** The oldest block the store must keep (genesis, or the checkpoint-sync anchor). */
const META_BASE = "base";
/** SignedBlock's fixed part: the Block offset (4) and the signature (96). */
const SIGNED_BLOCK_FIXED_BYTES = 100;
/** Block bytes up to the end of parentRoot: slot (8) ++ proposerIndex (8) ++ parentRoot (32). */
const BLOCK_LINKS_END = 48;
/** Blocks read per multi-get by the start-up check: bounds its memory on a long history. */
const CHECK_CHUNK_BLOCKS = 1024;
const INITIALIZED_MARKER = "METRONOME_INITIALIZED";

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

export class ChainDb {
  private readonly db: Db;
  readonly path: string;

  private constructor(db: Db, path: string) {
    this.db = db;
    this.path = path;
  }

  /**
   * Opens (creating if needed) the store for one chain. A data dir written by another chain is
   * refused, never silently reused.
   */
  static async open(path: string, forkDigest: Uint8Array): Promise<ChainDb> {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: "view", valueEncoding: "view" });
    try {
      await db.open();
    } catch (e) {
      throw new DatabaseError(`cannot open database at ${path}: ${describe(e)}`);
    }
    const chainDb = new ChainDb(db, path);
    const initialized = existsSync(join(path, INITIALIZED_MARKER));
    const stored = await db.get(metaKey(META_FORK_DIGEST));
    if (stored === undefined) {
      if (initialized) {
        await db.close();
        // LevelDB silently skips unreadable log records; starting over would forget finalized
        // history and let validators sign again what they signed before.
        throw new DatabaseError(
          `database at ${path} is corrupt: it was initialized but its chain identity is gone; move it away to start over`,
        );
      }
      await db.put(metaKey(META_FORK_DIGEST), forkDigest, { sync: true });
    } else if (toHex(stored) !== toHex(forkDigest)) {
      await db.close();
      throw new DatabaseError(
        `database at ${path} belongs to chain ${toHex(stored)}, not ${toHex(forkDigest)}; use another --data-dir`,
      );
    }
    chainDb.initialized = initialized;
    return chainDb;
  }

  /**
   * Whether this data dir completed its first start (its first anchor is durable). A fresh or
   * half-initialized dir may be initialized from genesis; an initialized one must have an anchor.
   */
  initialized = false;

  /** Records that the first anchor is durable (a file next to the LevelDB files, fsynced). */
  async markInitialized(): Promise<void> {
    const marker = join(this.path, INITIALIZED_MARKER);
    const handle = await open(marker, "w");
    try {
      await handle.writeFile(`${JSON.stringify({ initialized: new Date().toISOString() })}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.initialized = true;
  }

  async close(): Promise<void> {
    if (this.db.status === "open") await this.db.close();
  }

  async putBlock(root: Uint8Array, block: SignedBlockValue): Promise<void> {
    await this.putBlockBytes(root, block.block.slot, SignedBlock.serialize(block));
  }

  async getBlock(root: Uint8Array): Promise<SignedBlockValue | null> {
    const bytes = await this.db.get(key(Bucket.block, root));
    return bytes === undefined ? null : this.decodeOrCorrupt(SignedBlock, bytes, `block ${rootKey(root)}`);
  }

  async hasBlock(root: Uint8Array): Promise<boolean> {
    return (await this.db.get(key(Bucket.block, root))) !== undefined;
  }

  /** Every stored block with slot > `afterSlot`, in slot order (restart replay). */
  async *blocksAfter(afterSlot: number): AsyncGenerator<SignedBlockValue> {
    for await (const k of this.db.keys(bucketRange(Bucket.blockSlot, slotBytes(afterSlot + 1)))) {
      const root = k.subarray(9, 41);
      const block = await this.getBlock(root);
      if (block !== null) yield block;
    }
  }

  /** Root of the finalized canonical block at `slot`, if that slot had one. */
  async getFinalizedRoot(slot: number): Promise<Uint8Array | null> {
    const root = await this.db.get(key(Bucket.finalizedRoot, slotBytes(slot)));
    return root === undefined ? null : Uint8Array.from(root);
  }

  /** Finalized canonical (slot, root) pairs in [start, start+count). */
  async finalizedRoots(start: number, count: number): Promise<{ slot: number; root: Uint8Array }[]> {
    const out: { slot: number; root: Uint8Array }[] = [];
    const range = {
      gte: key(Bucket.finalizedRoot, slotBytes(start)),
      lt: key(Bucket.finalizedRoot, slotBytes(start + count)),
    };
    for await (const [k, root] of this.db.iterator(range))
      out.push({ slot: readSlot(k, 1), root: Uint8Array.from(root) });
    return out;
  }

  /** A block already serialized (the write queue serializes once, to count its bytes). */
  async putBlockBytes(root: Uint8Array, slot: number, bytes: Uint8Array): Promise<void> {
    await this.db.batch([
      { type: "put", key: key(Bucket.block, root), value: bytes },
      { type: "put", key: key(Bucket.blockSlot, slotBytes(slot), root), value: new Uint8Array(0) },
    ]);
  }

  /**
   * Records finality at `checkpoint` in ONE synced batch: the canonical index, the anchor state,
   * the anchor pointer and the pruning of orphans. A crash leaves either the old anchor with its
   * index and blocks, or the new one with its index and blocks; never a mix.
   *
   * The canonical chain is walked from the new finalized block down the stored parent links until
   * it joins the finalized index already written (at or below the stored anchor), so the keep-set
   * comes from the chain itself: whatever finality writes were skipped, superseded or lost before,
   * their range is indexed here. No block whose root is in the finalized index is ever deleted.
   * The anchor block and every canonical block above the stored anchor must already be stored
   * (the write queue puts blocks before the finality that names them).
   */
  async finalize(checkpoint: CheckpointValue, stateBytes: Uint8Array): Promise<FinalizeResult> {
    const previous = await this.getAnchorCheckpoint();
    const walk = await this.walkCanonical(checkpoint, previous);
    const ops: BatchOp[] = [];
    const keep = new Set<string>();
    for (const { slot, root } of walk.chain) {
      keep.add(rootKey(root));
      ops.push({ type: "put", key: key(Bucket.finalizedRoot, slotBytes(slot)), value: root });
    }
    // Pruning: every slot-index entry at or below finality goes (restart replays only what is
    // above the anchor); a body goes only if it is neither on the walked chain nor indexed.
    // (Only slots with a slot-index entry are read: the cost follows the unfinalized range, not
    // the length of the finalized history.)
    let pruned = 0;
    const slotKeys: Uint8Array[] = [];
    for await (const k of this.db.keys({
      gte: Uint8Array.of(Bucket.blockSlot),
      lt: key(Bucket.blockSlot, slotBytes(checkpoint.slot + 1)),
    })) {
      slotKeys.push(k);
    }
    for (const k of slotKeys) {
      const root = k.slice(9, 41);
      ops.push({ type: "del", key: k });
      const id = rootKey(root);
      if (keep.has(id)) continue;
      const indexed = await this.db.get(key(Bucket.finalizedRoot, k.subarray(1, 9)));
      if (indexed !== undefined && rootKey(indexed) === id) continue;
      ops.push({ type: "del", key: key(Bucket.block, root) });
      pruned++;
    }
    ops.push(
      { type: "put", key: key(Bucket.state, checkpoint.root), value: stateBytes },
      { type: "put", key: metaKey(META_ANCHOR), value: Checkpoint.serialize(checkpoint) },
    );
    if (previous !== null && rootKey(previous.root) !== rootKey(checkpoint.root)) {
      ops.push({ type: "del", key: key(Bucket.state, previous.root) });
    }
    if (previous === null || (await this.db.get(metaKey(META_BASE))) === undefined) {
      // The oldest block this store must keep: genesis, or the checkpoint-sync anchor.
      ops.push({ type: "put", key: metaKey(META_BASE), value: Checkpoint.serialize(walk.base) });
    }
    crashPoint("finality:before-batch");
    await this.db.batch(ops, { sync: true });
    crashPoint("finality:after-batch");
    return { indexed: walk.chain.length, pruned };
  }

  /**
   * The canonical (slot, root) pairs from `checkpoint` down to where the stored finalized index
   * already agrees (or genesis, or the first block of a fresh store), oldest first.
   */
  private async walkCanonical(
    checkpoint: CheckpointValue,
    previous: CheckpointValue | null,
  ): Promise<{ chain: { slot: number; root: Uint8Array }[]; base: CheckpointValue }> {
    const chain: { slot: number; root: Uint8Array }[] = [];
    let cursor: Uint8Array = Uint8Array.from(checkpoint.root);
    for (;;) {
      const bytes = await this.db.get(key(Bucket.block, cursor));
      if (bytes === undefined) {
        const last = chain[chain.length - 1];
        // A fresh store's first anchor may be a checkpoint-sync block with no parent stored.
        if (previous === null && last !== undefined) return { chain: chain.reverse(), base: last };
        const below = last === undefined ? "" : ` (parent of slot ${last.slot})`;
        throw new DatabaseError(
          `cannot finalize slot ${checkpoint.slot}: canonical block ${rootKey(cursor)}${below} is not stored`,
        );
      }
      const { slot, parentRoot } = this.blockLinks(bytes, cursor);
      if (previous !== null && slot <= previous.slot) {
        const indexed = await this.db.get(key(Bucket.finalizedRoot, slotBytes(slot)));
        if (indexed !== undefined) {
          if (rootKey(indexed) === rootKey(cursor)) return { chain: chain.reverse(), base: { slot, root: cursor } };
          throw new DatabaseError(
            `cannot finalize slot ${checkpoint.slot}: it descends from ${rootKey(cursor)} at slot ${slot}, but the store finalized ${rootKey(indexed)} there`,
          );
        }
      }
      chain.push({ slot, root: cursor });
      if (slot === 0) return { chain: chain.reverse(), base: { slot, root: cursor } };
      cursor = parentRoot;
    }
  }

  /**
   * The fast path of the start-up check: the index, read in one scan and its blocks in a few
   * multi-gets, links anchor to base through parent roots with every block stored. Any doubt
   * sends the caller to the block-by-block walk, which also repairs.
   */
  private async indexIsIntact(
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
      const blocks = await this.db.getMany(chunk.map(([, root]) => key(Bucket.block, fromHex(root))));
      for (let j = 0; j < chunk.length; j++) {
        const [slot, root] = chunk[j] as [number, string];
        const bytes = blocks[j];
        if (bytes === undefined) return false;
        const links = this.blockLinks(bytes, fromHex(root));
        if (links.slot !== slot) return false;
        const parent = entries[i + j + 1];
        if (parent !== undefined && rootKey(links.parentRoot) !== parent[1]) return false;
      }
    }
    return true;
  }

  /** The finalized index up to `maxSlot` as slot -> root key. */
  private async indexedRootsUpTo(maxSlot: number): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const range = { gte: Uint8Array.of(Bucket.finalizedRoot), lt: key(Bucket.finalizedRoot, slotBytes(maxSlot + 1)) };
    for await (const [k, root] of this.db.iterator(range)) out.set(readSlot(k, 1), rootKey(root));
    return out;
  }

  /**
   * Slot and parent root straight from a stored SignedBlock's SSZ bytes, without decoding the body:
   * the start-up check and finality walk thousands of blocks. SignedBlock = offset(4) ++
   * signature(96) ++ Block; Block = slot(8, LE) ++ proposerIndex(8) ++ parentRoot(32) ++ ...
   */
  private blockLinks(bytes: Uint8Array, root: Uint8Array): { slot: number; parentRoot: Uint8Array } {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const offset = bytes.byteLength >= 4 ? view.getUint32(0, true) : -1;
    if (offset !== SIGNED_BLOCK_FIXED_BYTES || bytes.byteLength < offset + BLOCK_LINKS_END) {
      throw new DatabaseError(`database at ${this.path} is corrupt: block ${rootKey(root)} is malformed`);
    }
    const slot = view.getBigUint64(offset, true);
    if (slot > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new DatabaseError(`database at ${this.path} is corrupt: block ${rootKey(root)} has slot ${slot}`);
    }
    return { slot: Number(slot), parentRoot: Uint8Array.from(bytes.subarray(offset + 16, offset + 48)) };
  }

  /**
   * The start-up invariant: every canonical block from the anchor back to the store's base
   * (genesis or the checkpoint-sync anchor) is stored, and the finalized index names exactly
   * those blocks. Index entries that are missing or wrong while the blocks are there are
   * recomputed from the parent links (one synced batch); a missing block cannot be repaired and
   * throws a DatabaseError naming it.
   */
  async checkCanonicalChain(): Promise<StoreCheckResult> {
    const started = performance.now();
    const anchor = await this.getAnchorCheckpoint();
    if (anchor === null) return { blocks: 0, repaired: 0, ms: 0 };
    const baseBytes = await this.db.get(metaKey(META_BASE));
    const index = await this.indexedRootsUpTo(anchor.slot);
    // Stores written before the base was recorded: the lowest indexed block is the base.
    let base: CheckpointValue | null =
      baseBytes === undefined ? null : this.decodeOrCorrupt(Checkpoint, baseBytes, "base checkpoint");
    if (base === null) {
      const lowest = [...index.entries()].sort((a, b) => a[0] - b[0])[0];
      base = lowest === undefined ? null : { slot: lowest[0], root: fromHex(lowest[1]) };
    }
    if (baseBytes !== undefined && base !== null && (await this.indexIsIntact(anchor, base, index))) {
      return { blocks: index.size, repaired: 0, ms: performance.now() - started };
    }
    const ops: BatchOp[] = [];
    const onChain = new Set<number>();
    let cursor: Uint8Array = Uint8Array.from(anchor.root);
    let child: { slot: number } | null = null;
    for (;;) {
      const bytes = await this.db.get(key(Bucket.block, cursor));
      if (bytes === undefined) {
        const where = child === null ? "the anchor block" : `the parent of finalized slot ${child.slot}`;
        throw new DatabaseError(
          `database at ${this.path} is missing finalized block ${rootKey(cursor)} (${where}; anchor slot ${anchor.slot}): ` +
            "it cannot serve its finalized history. Move the data dir away and resync, from genesis or with --checkpoint-sync-url",
        );
      }
      const { slot, parentRoot } = this.blockLinks(bytes, cursor);
      if (child !== null && slot >= child.slot) {
        throw new DatabaseError(
          `database at ${this.path} is corrupt: block ${rootKey(cursor)} at slot ${slot} is the parent of slot ${child.slot}`,
        );
      }
      onChain.add(slot);
      if (index.get(slot) !== rootKey(cursor)) {
        ops.push({ type: "put", key: key(Bucket.finalizedRoot, slotBytes(slot)), value: cursor });
      }
      const atBase = base !== null && slot <= base.slot;
      if (atBase && base !== null && rootKey(base.root) !== rootKey(cursor)) {
        throw new DatabaseError(
          `database at ${this.path} is corrupt: the anchor's chain reaches slot ${slot} at ${rootKey(cursor)}, not the base block ${rootKey(base.root)} at slot ${base.slot}`,
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
    if (ops.length > 0) await this.db.batch(ops, { sync: true });
    return { blocks: onChain.size, repaired, ms: performance.now() - started };
  }

  async getAnchorCheckpoint(): Promise<CheckpointValue | null> {
    const bytes = await this.db.get(metaKey(META_ANCHOR));
    return bytes === undefined ? null : this.decodeOrCorrupt(Checkpoint, bytes, "anchor checkpoint");
  }

  /** The fork-choice anchor to restart from, or null for a fresh data dir. */
  async getAnchor(): Promise<Anchor | null> {
    const checkpoint = await this.getAnchorCheckpoint();
    if (checkpoint === null) {
      if (this.initialized) {
        throw new DatabaseError(
          `database at ${this.path} is corrupt: it was initialized but has no fork-choice anchor`,
        );
      }
      return null;
    }
    const stateBytes = await this.db.get(key(Bucket.state, checkpoint.root));
    const block = await this.getBlock(checkpoint.root);
    if (stateBytes === undefined || block === null) {
      throw new DatabaseError(
        `database at ${this.path} is corrupt: anchor ${rootKey(checkpoint.root)} has no ${stateBytes === undefined ? "state" : "block"}`,
      );
    }
    return { checkpoint, block, state: this.decodeOrCorrupt(State, stateBytes, "anchor state") };
  }

  private decodeOrCorrupt<T>(type: Parameters<typeof decode<T>>[0], bytes: Uint8Array, what: string): T {
    try {
      // A plain Uint8Array view: decoded roots stay Uint8Array, not Buffer.
      return decode(type, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw new DatabaseError(`database at ${this.path} is corrupt: cannot decode ${what}: ${describe(e)}`);
    }
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // LevelDB's own reason (e.g. a missing MANIFEST) hides in the cause.
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e.message}${cause}`;
}

// The node's embedded store (LevelDB through classic-level). What must survive a SIGKILL: every
// finalized block and the finalized anchor state. Finality writes are one synced batch, so the
// anchor, its state and the canonical index can never disagree after a crash.

import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import {
  Checkpoint,
  type Checkpoint as CheckpointValue,
  rootKey,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
  type State as StateValue,
  toHex,
} from "@metronome/chain";
import { ClassicLevel } from "classic-level";
import { blockLinks } from "./blockLinks.ts";
import { checkCanonicalChain, type StoreCheckResult } from "./canonicalCheck.ts";
import { crashPoint } from "./crashHook.ts";
import { DatabaseError, decodeOrCorrupt, describe } from "./dbErrors.ts";
import {
  Bucket,
  bucketRange,
  key,
  META_ANCHOR,
  META_BASE,
  META_FORK_DIGEST,
  metaKey,
  readSlot,
  slotBytes,
} from "./keys.ts";
import type { BatchOp, Db } from "./levelDb.ts";

export type { StoreCheckResult } from "./canonicalCheck.ts";
export { DatabaseError } from "./dbErrors.ts";

export interface FinalizeResult {
  /** Canonical blocks newly written to the finalized index. */
  indexed: number;
  /** Orphaned block bodies deleted. */
  pruned: number;
}

export interface Anchor {
  checkpoint: CheckpointValue;
  state: StateValue;
  block: SignedBlockValue;
}

const INITIALIZED_MARKER = "METRONOME_INITIALIZED";

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
    return bytes === undefined ? null : decodeOrCorrupt(SignedBlock, bytes, `block ${rootKey(root)}`, this.path);
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
      const { slot, parentRoot } = blockLinks(bytes, cursor, this.path);
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
   * The start-up invariant: every canonical block from the anchor back to the store's base
   * (genesis or the checkpoint-sync anchor) is stored, and the finalized index names exactly
   * those blocks; see canonicalCheck.ts.
   */
  async checkCanonicalChain(): Promise<StoreCheckResult> {
    const started = performance.now();
    return checkCanonicalChain(this.db, this.path, await this.getAnchorCheckpoint(), started);
  }

  async getAnchorCheckpoint(): Promise<CheckpointValue | null> {
    const bytes = await this.db.get(metaKey(META_ANCHOR));
    return bytes === undefined ? null : decodeOrCorrupt(Checkpoint, bytes, "anchor checkpoint", this.path);
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
    return { checkpoint, block, state: decodeOrCorrupt(State, stateBytes, "anchor state", this.path) };
  }
}

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
  rootKey,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
  type State as StateValue,
  toHex,
} from "@metronome/chain";
import { ClassicLevel } from "classic-level";
import { Bucket, bucketRange, key, metaKey, readSlot, slotBytes } from "./keys.ts";

export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

export interface Anchor {
  checkpoint: CheckpointValue;
  state: StateValue;
  block: SignedBlockValue;
}

const META_FORK_DIGEST = "fork_digest";
const META_ANCHOR = "anchor";
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
    await this.db.batch([
      { type: "put", key: key(Bucket.block, root), value: SignedBlock.serialize(block) },
      { type: "put", key: key(Bucket.blockSlot, slotBytes(block.block.slot), root), value: new Uint8Array(0) },
    ]);
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

  /**
   * Records new finality in one synced batch: the canonical roots it settles, the anchor state and
   * the anchor pointer. The anchor block must already be stored (every imported block is). The
   * previous anchor state is dropped: one anchor state is enough to restart.
   */
  async putFinalized(
    checkpoint: CheckpointValue,
    state: StateValue,
    canonical: { slot: number; root: Uint8Array }[],
  ): Promise<void> {
    const previous = await this.getAnchorCheckpoint();
    const root = checkpoint.root;
    const ops: BatchOp[] = canonical.map(({ slot, root: r }) => ({
      type: "put" as const,
      key: key(Bucket.finalizedRoot, slotBytes(slot)),
      value: r,
    }));
    ops.push(
      { type: "put", key: key(Bucket.state, root), value: State.serialize(state) },
      { type: "put", key: metaKey(META_ANCHOR), value: Checkpoint.serialize(checkpoint) },
    );
    if (previous !== null && rootKey(previous.root) !== rootKey(root)) {
      ops.push({ type: "del", key: key(Bucket.state, previous.root) });
    }
    await this.db.batch(ops, { sync: true });
  }

  /**
   * Walks parent links in the store from `root` down to (excluding) `stopSlot`: the canonical
   * (slot, root) pairs a new finalized checkpoint settles.
   */
  async ancestry(root: Uint8Array, stopSlot: number): Promise<{ slot: number; root: Uint8Array }[]> {
    const out: { slot: number; root: Uint8Array }[] = [];
    let current: Uint8Array | null = root;
    while (current !== null) {
      const block: SignedBlockValue | null = await this.getBlock(current);
      if (block === null || block.block.slot <= stopSlot) break;
      out.push({ slot: block.block.slot, root: current });
      current = block.block.slot === 0 ? null : block.block.parentRoot;
    }
    return out.reverse();
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

  /** Drops non-finalized blocks at or below the finalized slot that lost to the canonical chain. */
  async pruneOrphans(finalizedSlot: number, keep: (root: Uint8Array) => boolean): Promise<number> {
    const ops: BatchOp[] = [];
    const range = { gte: Uint8Array.of(Bucket.blockSlot), lt: key(Bucket.blockSlot, slotBytes(finalizedSlot + 1)) };
    for await (const k of this.db.keys(range)) {
      const root = k.slice(9, 41);
      ops.push({ type: "del", key: k });
      if (!keep(root)) ops.push({ type: "del", key: key(Bucket.block, root) });
    }
    if (ops.length > 0) await this.db.batch(ops);
    return ops.length;
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

// Blocks whose parent is unknown wait here while the fetcher looks for the parent; importing a
// block releases its cached children. Bounded in count and in bytes: the oldest-inserted block is
// evicted (and counted) until the new one fits.
import { Block, rootKey, SignedBlock } from "@metronome/chain";
import type { OrphanPoolStats } from "../chain/interface.ts";

/** Orphans held at once: far more than any honest gap in the chain needs. */
export const ORPHAN_CAPACITY = 1024;
/**
 * Bytes of serialized orphans held at once. A valid block may be 2.6 MiB, so the count cap alone
 * would allow 2.6 GiB; a hostile peer sending maximal blocks with unknown parents gets 64 MiB.
 */
export const ORPHAN_MAX_BYTES = 64 * 1024 * 1024;

export interface OrphanEntry {
  root: Uint8Array;
  block: SignedBlock;
  peer: string | null;
  /** Serialized size, charged against the byte cap. */
  bytes: number;
}

export class OrphanBlocks {
  private readonly byRoot = new Map<string, OrphanEntry>();
  private readonly byParent = new Map<string, Set<string>>();
  readonly capacity: number;
  readonly maxBytes: number;
  /** Blocks evicted to make room (count or bytes). */
  evicted = 0;
  /** Of those, the ones evicted because the byte cap, not the count, was reached. */
  evictedForBytes = 0;
  /** Blocks refused because one alone is over the byte cap. */
  refusedTooLarge = 0;
  private heldBytes = 0;

  constructor(capacity = ORPHAN_CAPACITY, maxBytes = ORPHAN_MAX_BYTES) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.byRoot.size;
  }

  /** Serialized bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }

  stats(): OrphanPoolStats {
    return {
      blocks: this.byRoot.size,
      bytes: this.heldBytes,
      evictedForCount: this.evicted - this.evictedForBytes,
      evictedForBytes: this.evictedForBytes,
      refusedTooLarge: this.refusedTooLarge,
    };
  }

  has(root: Uint8Array): boolean {
    return this.byRoot.has(rootKey(root));
  }

  /**
   * Caches the block; null (counted) when it alone is larger than the byte cap. `root`: the
   * block's root when the caller already hashed it.
   */
  add(block: SignedBlock, peer: string | null, root: Uint8Array = Block.hashTreeRoot(block.block)): OrphanEntry | null {
    const key = rootKey(root);
    const existing = this.byRoot.get(key);
    if (existing) return existing;
    const bytes = SignedBlock.value_serializedSize(block);
    if (bytes > this.maxBytes) {
      this.refusedTooLarge++;
      return null;
    }
    while (this.byRoot.size >= this.capacity || this.heldBytes + bytes > this.maxBytes) {
      const oldest = this.byRoot.keys().next().value;
      if (oldest === undefined) break;
      if (this.byRoot.size < this.capacity) this.evictedForBytes++;
      this.remove(oldest);
      this.evicted++;
    }
    const entry = { root, block, peer, bytes };
    this.heldBytes += bytes;
    this.byRoot.set(key, entry);
    const parent = rootKey(block.block.parentRoot);
    let children = this.byParent.get(parent);
    if (!children) {
      children = new Set();
      this.byParent.set(parent, children);
    }
    children.add(key);
    return entry;
  }

  /** Removes and returns the cached children of `parentRoot`, lowest slot first. */
  takeChildren(parentRoot: Uint8Array): OrphanEntry[] {
    const parent = rootKey(parentRoot);
    const keys = this.byParent.get(parent);
    if (!keys) return [];
    const out: OrphanEntry[] = [];
    for (const k of keys) {
      const entry = this.byRoot.get(k);
      if (entry) out.push(entry);
    }
    for (const e of out) this.remove(rootKey(e.root));
    return out.sort((a, b) => a.block.block.slot - b.block.block.slot);
  }

  /** Missing ancestors to fetch: parents of cached blocks that are neither cached nor known. */
  missingParents(isKnown: (root: Uint8Array) => boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.byRoot.values()) {
      const parent = e.block.block.parentRoot;
      if (!this.byRoot.has(rootKey(parent)) && !isKnown(parent)) out.push(parent);
    }
    return out;
  }

  /** Drops cached blocks at or below the finalized slot: they can never become canonical. */
  pruneFinalized(finalizedSlot: number): number {
    let n = 0;
    for (const [k, e] of this.byRoot) {
      if (e.block.block.slot <= finalizedSlot) {
        this.remove(k);
        n++;
      }
    }
    return n;
  }

  private remove(key: string): void {
    const entry = this.byRoot.get(key);
    if (!entry) return;
    this.byRoot.delete(key);
    this.heldBytes -= entry.bytes;
    const parent = rootKey(entry.block.block.parentRoot);
    const children = this.byParent.get(parent);
    children?.delete(key);
    if (children && children.size === 0) this.byParent.delete(parent);
  }
}

// Blocks whose parent is unknown wait here while the fetcher looks for the parent; importing a
// block releases its cached children. Bounded: the oldest-inserted block is evicted when full.
import { Block, rootKey, type SignedBlock } from "@metronome/chain";

export interface OrphanEntry {
  root: Uint8Array;
  block: SignedBlock;
  peer: string | null;
}

export class OrphanBlocks {
  private readonly byRoot = new Map<string, OrphanEntry>();
  private readonly byParent = new Map<string, Set<string>>();
  readonly capacity: number;
  evicted = 0;

  constructor(capacity = 1024) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.byRoot.size;
  }

  has(root: Uint8Array): boolean {
    return this.byRoot.has(rootKey(root));
  }

  /** `root`: the block's root when the caller already hashed it. */
  add(block: SignedBlock, peer: string | null, root: Uint8Array = Block.hashTreeRoot(block.block)): OrphanEntry {
    const key = rootKey(root);
    const existing = this.byRoot.get(key);
    if (existing) return existing;
    if (this.byRoot.size >= this.capacity) {
      const oldest = this.byRoot.keys().next().value;
      if (oldest !== undefined) this.remove(oldest);
      this.evicted++;
    }
    const entry = { root, block, peer };
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
    const parent = rootKey(entry.block.block.parentRoot);
    const children = this.byParent.get(parent);
    children?.delete(key);
    if (children && children.size === 0) this.byParent.delete(parent);
  }
}

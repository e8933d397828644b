// The fork-choice store's post-states, capped by count: the heavy objects. An evicted state is
// rebuilt on demand by replaying stored blocks from the nearest ancestor whose state is held.
import type { RootHex } from "../ssz/keys.ts";
import type { State } from "../ssz/types.ts";
import { transitionWithoutStateRootCheck } from "../stateTransition/index.ts";
import type { StoredBlock, StoredBlocks } from "./storeTypes.ts";

export class StateCache {
  readonly maxStates: number;
  private readonly states = new Map<RootHex, State>();
  private readonly nodes: StoredBlocks;
  /** Keys whose state is never evicted (the store's base, head, justified and finalized blocks). */
  private readonly pinnedKeys: () => readonly RootHex[];

  constructor(maxStates: number, nodes: StoredBlocks, pinnedKeys: () => readonly RootHex[]) {
    this.maxStates = maxStates;
    this.nodes = nodes;
    this.pinnedKeys = pinnedKeys;
  }

  get size(): number {
    return this.states.size;
  }

  set(key: RootHex, state: State): void {
    this.states.set(key, state);
  }

  delete(key: RootHex): void {
    this.states.delete(key);
  }

  /** Post-state of a stored block; rebuilt by replay if it was evicted under the cap. */
  get(key: RootHex): State | undefined {
    const cached = this.states.get(key);
    if (cached !== undefined) return cached;
    const target = this.nodes.get(key);
    if (target === undefined) return undefined;

    const replay: StoredBlock[] = [];
    let node: StoredBlock | undefined = target;
    let state: State | undefined;
    while (node !== undefined) {
      state = this.states.get(node.key);
      if (state !== undefined) break;
      replay.push(node);
      node = this.nodes.get(node.parentKey);
    }
    if (state === undefined) return undefined;
    // Every stored block passed the full transition once, so replay skips signature and root checks.
    let rebuilt: State = state;
    for (let i = replay.length - 1; i >= 0; i--) {
      rebuilt = transitionWithoutStateRootCheck(rebuilt, (replay[i] as StoredBlock).block);
    }
    this.states.set(key, rebuilt);
    this.enforceCap(key);
    return rebuilt;
  }

  /** Drop the lowest-slot unpinned states until the cap holds; `alsoPin` is kept as well. */
  enforceCap(alsoPin: RootHex): void {
    if (this.states.size <= this.maxStates) return;
    const pinned = new Set<RootHex>([...this.pinnedKeys(), alsoPin]);
    const evictable = [...this.states.keys()]
      .filter((k) => !pinned.has(k))
      .map((k) => {
        const node = this.nodes.get(k);
        if (node === undefined) throw new Error(`block ${k} missing from fork-choice store`);
        return node;
      })
      .sort((a, b) => a.slot - b.slot);
    for (const n of evictable) {
      if (this.states.size <= this.maxStates) break;
      this.states.delete(n.key);
    }
  }
}

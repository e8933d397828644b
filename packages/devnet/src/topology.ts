// Who dials whom in a local devnet. By default every node dials every other, so every vote reaches
// every node in one hop. A ring topology makes each node dial only its next k neighbours: most pairs
// are then not directly connected, and a vote reaches the aggregator only through the gossip mesh,
// as it does on a real network past the mesh degree.
import type { NodeEntry } from "@metronome/common";

/** The multiaddr other nodes dial to reach `entry`. */
export function bootnodeAddr(entry: NodeEntry): string {
  return `${entry.listen}/p2p/${entry.peerId}`;
}

/**
 * Bootnodes of `entries[index]` in a ring where each node dials the next `k` nodes (wrapping). Each
 * node ends up connected to about 2k others (k it dials, k that dial it).
 */
export function ringBootnodes(entries: readonly NodeEntry[], index: number, k: number): string[] {
  if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`ring degree must be an integer >= 1, got ${k}`);
  const n = entries.length;
  const out: string[] = [];
  for (let step = 1; step <= Math.min(k, n - 1); step++) {
    const next = entries[(index + step) % n];
    if (next !== undefined) out.push(bootnodeAddr(next));
  }
  return out;
}

/** Hop distance from node `from` to every node in the ring topology (breadth-first). */
export function ringHops(n: number, k: number, from: number): number[] {
  const hops = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  hops[from] = 0;
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift() as number;
    const current = hops[at] as number;
    for (let step = 1; step <= Math.min(k, n - 1); step++) {
      for (const next of [(at + step) % n, (at - step + n) % n]) {
        if ((hops[next] as number) > current + 1) {
          hops[next] = current + 1;
          queue.push(next);
        }
      }
    }
  }
  return hops;
}

export interface TopologyOptions {
  /** Each node dials its next `ring` nodes; undefined: every node dials every other (genesis bootnodes). */
  ring?: number;
  /** Gossip mesh degree D of every node; undefined: the protocol's default. */
  meshDegree?: number;
}

/** The `metronome node` flags that put `entry` into the chosen topology. */
export function topologyArgs(entries: readonly NodeEntry[], entry: NodeEntry, o: TopologyOptions): string[] {
  const args: string[] = [];
  if (o.ring !== undefined) {
    const index = entries.findIndex((e) => e.nodeId === entry.nodeId);
    const bootnodes = ringBootnodes(entries, index, o.ring);
    // An empty list would fall back to the genesis bootnodes (every node), so a lone node gets none.
    if (bootnodes.length > 0) args.push("--bootnodes", bootnodes.join(","));
  }
  if (o.meshDegree !== undefined) args.push("--gossip-mesh-degree", String(o.meshDegree));
  return args;
}

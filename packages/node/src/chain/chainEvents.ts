// Chain events the node emits (the SSE stream, logs and tests subscribe). Listeners run
// synchronously on the main thread, so they must be cheap and must not throw.
import type { AttestationData, Checkpoint } from "@metronome/chain";

export interface BlockEvent {
  slot: number;
  root: Uint8Array;
  source: BlockSource;
}

export interface HeadEvent {
  slot: number;
  root: Uint8Array;
  stateRoot: Uint8Array;
  previousHead: Checkpoint;
}

export interface ReorgEvent {
  slot: number;
  depth: number;
  oldHead: Checkpoint;
  newHead: Checkpoint;
  oldHeadStateRoot: Uint8Array;
  newHeadStateRoot: Uint8Array;
}

export interface FinalizedEvent {
  checkpoint: Checkpoint;
  stateRoot: Uint8Array;
}

export interface AttestationEvent {
  validatorIndices: number[];
  data: AttestationData;
  signature: Uint8Array;
  aggregated: boolean;
}

/** Every path a block can be imported by (tests run the pending-buffer replay rule over each). */
export const BLOCK_SOURCES = ["gossip", "blocks_by_root", "blocks_by_range", "own_proposal", "api", "restart"] as const;
export type BlockSource = (typeof BLOCK_SOURCES)[number];

export interface ChainEventMap {
  block: BlockEvent;
  head: HeadEvent;
  chain_reorg: ReorgEvent;
  finalized_checkpoint: FinalizedEvent;
  justified_checkpoint: Checkpoint;
  attestation: AttestationEvent;
}

type Listener<T> = (event: T) => void;

/** The subscribing half of ChainEvents: what the rest of the node is given. */
export interface ChainEventSource {
  on<K extends keyof ChainEventMap>(topic: K, listener: Listener<ChainEventMap[K]>): () => void;
}

export class ChainEvents {
  private readonly listeners: { [K in keyof ChainEventMap]: Set<Listener<ChainEventMap[K]>> } = {
    block: new Set(),
    head: new Set(),
    chain_reorg: new Set(),
    finalized_checkpoint: new Set(),
    justified_checkpoint: new Set(),
    attestation: new Set(),
  };
  listenerErrors = 0;

  on<K extends keyof ChainEventMap>(topic: K, listener: Listener<ChainEventMap[K]>): () => void {
    this.listeners[topic].add(listener);
    return () => this.listeners[topic].delete(listener);
  }

  listenerCount(topic: keyof ChainEventMap): number {
    return this.listeners[topic].size;
  }

  emit<K extends keyof ChainEventMap>(topic: K, event: ChainEventMap[K]): void {
    for (const listener of this.listeners[topic]) {
      try {
        listener(event);
      } catch {
        // A broken subscriber must not break block import.
        this.listenerErrors++;
      }
    }
  }
}

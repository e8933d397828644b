// In-memory gossip: a message published by one node reaches every other node (a fully connected
// mesh, no loss, no latency) when the bus is flushed at the end of the interval's duty.
import type { SignedAggregatedAttestation, SignedAttestation, SignedBlock } from "../ssz/types.ts";
import type { SeededRandom } from "./rng.ts";

export type SimMessage =
  | { kind: "block"; block: SignedBlock }
  | { kind: "attestation"; attestation: SignedAttestation }
  | { kind: "aggregate"; aggregate: SignedAggregatedAttestation };

export interface MessageSink {
  readonly id: number;
  receiveBatch(messages: readonly SimMessage[]): void;
}

/** One interval of a 4096-validator network publishes at most ~4096 singles; more is a runaway loop. */
export const MAX_BUS_QUEUE = 65_536;

interface Envelope {
  from: number;
  message: SimMessage;
}

export class SimBus {
  private queue: Envelope[] = [];
  /** Messages refused because the queue was full (the newest is dropped). */
  dropped = 0;
  delivered = 0;

  publish(from: number, message: SimMessage): void {
    if (this.queue.length >= MAX_BUS_QUEUE) {
      this.dropped++;
      return;
    }
    this.queue.push({ from, message });
  }

  /** Deliver everything queued; each receiver sees the batch in its own seeded order. */
  flush(sinks: readonly MessageSink[], rng: SeededRandom): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    for (const sink of sinks) {
      const inbound = rng
        .shuffled(batch)
        .filter((e) => e.from !== sink.id)
        .map((e) => e.message);
      if (inbound.length === 0) continue;
      sink.receiveBatch(inbound);
      this.delivered += inbound.length;
    }
  }
}

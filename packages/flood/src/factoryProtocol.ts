// Messages between the flooder's main thread and its payload worker. Payload batches travel as
// one packed buffer (bytes + offsets) so they can be transferred, not copied.
import type { ChainSnapshot } from "./chainView.ts";
import type { FactoryKind, FloodPayload, FloodTopic } from "./payloadData.ts";
import type { PayloadFactoryStats } from "./payloadFactory.ts";

export type ToFactory =
  | { type: "snapshot"; snapshot: ChainSnapshot }
  | { type: "produce"; id: number; kind: FactoryKind; count: number }
  | { type: "stats"; id: number };

export type FromFactory =
  | { type: "payloads"; id: number; kind: FactoryKind; batch: PackedBatch }
  | { type: "stats"; id: number; stats: PayloadFactoryStats }
  | { type: "error"; id: number; message: string };

export interface FactoryWorkerData {
  validatorCount: number;
  forkDigest: Uint8Array;
}

export interface PackedBatch {
  /** 0 = attestation subnet topic, 1 = aggregation topic. */
  topics: Uint8Array;
  /** offsets[i]..offsets[i+1] is payload i in `data`. */
  offsets: Uint32Array;
  data: Uint8Array;
}

export function packBatch(payloads: readonly FloodPayload[]): PackedBatch {
  const topics = new Uint8Array(payloads.length);
  const offsets = new Uint32Array(payloads.length + 1);
  let total = 0;
  payloads.forEach((p, i) => {
    topics[i] = p.topic === "aggregation" ? 1 : 0;
    offsets[i] = total;
    total += p.bytes.length;
  });
  offsets[payloads.length] = total;
  const data = new Uint8Array(total);
  payloads.forEach((p, i) => {
    data.set(p.bytes, offsets[i] as number);
  });
  return { topics, offsets, data };
}

export function unpackBatch(kind: FactoryKind, batch: PackedBatch): FloodPayload[] {
  const out: FloodPayload[] = [];
  for (let i = 0; i < batch.topics.length; i++) {
    const topic: FloodTopic = batch.topics[i] === 1 ? "aggregation" : "attestation";
    out.push({ kind, topic, bytes: batch.data.subarray(batch.offsets[i] as number, batch.offsets[i + 1] as number) });
  }
  return out;
}

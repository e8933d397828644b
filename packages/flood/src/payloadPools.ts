// Ready-to-send payloads per kind, kept topped up by the payload worker: the main thread takes
// from a pool in O(1) and never signs. Each pool is capped (about two seconds of its kind's share
// of the rate); a refill is asked for when a pool falls below half, one request per kind at a time.
import { Worker } from "node:worker_threads";
import type { ChainSnapshot } from "./chainView.ts";
import { type FactoryWorkerData, type FromFactory, type ToFactory, unpackBatch } from "./factoryProtocol.ts";
import type { FactoryKind, FloodPayload } from "./payloadData.ts";
import type { PayloadFactoryStats } from "./payloadFactory.ts";

export const FACTORY_KINDS: readonly FactoryKind[] = [
  "valid",
  "redundant",
  "invalid_sig",
  "unknown_root",
  "future_slot",
  "malformed",
];

const MIN_POOL = 64;
const MAX_POOL = 8192;
/** Largest single request: keeps the worker's answer (and a stale snapshot's reach) short. */
const MAX_REQUEST = 512;
const POOL_SECONDS = 2;

export interface PoolStats {
  size: Record<FactoryKind, number>;
  received: Record<FactoryKind, number>;
  /** Requests the worker answered with fewer payloads than asked (no chain view to build on). */
  shortAnswers: Record<FactoryKind, number>;
  workerErrors: number;
}

/** FIFO with O(1) shift (Array.prototype.shift is O(n) on large arrays). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export function perKind(value: number): Record<FactoryKind, number> {
  return Object.fromEntries(FACTORY_KINDS.map((k) => [k, value])) as Record<FactoryKind, number>;
}

export class PayloadPools {
  private readonly worker: Worker;
  private readonly pools = new Map<FactoryKind, Fifo<FloodPayload>>();
  private readonly capacity: Record<FactoryKind, number>;
  private readonly requested = new Set<FactoryKind>();
  private readonly waiters = new Map<number, (stats: PayloadFactoryStats) => void>();
  private readonly stats_: PoolStats = {
    size: perKind(0),
    received: perKind(0),
    shortAnswers: perKind(0),
    workerErrors: 0,
  };
  private nextId = 1;
  private closed = false;

  /** `ratePerKind`: messages per second the schedule takes from each kind. */
  constructor(init: FactoryWorkerData, ratePerKind: Record<FactoryKind, number>) {
    this.capacity = perKind(0);
    for (const kind of FACTORY_KINDS) {
      this.pools.set(kind, new Fifo());
      const wanted = Math.ceil(ratePerKind[kind] * POOL_SECONDS);
      this.capacity[kind] = ratePerKind[kind] > 0 ? Math.min(MAX_POOL, Math.max(MIN_POOL, wanted)) : 0;
    }
    this.worker = new Worker(new URL("./factoryWorker.ts", import.meta.url), { workerData: init });
    this.worker.on("message", (message: FromFactory) => this.onMessage(message));
    this.worker.on("error", () => {
      this.stats_.workerErrors++;
    });
    this.worker.unref();
  }

  setSnapshot(snapshot: ChainSnapshot): void {
    if (!this.closed) this.post({ type: "snapshot", snapshot });
  }

  /** One payload of `kind`, or null when its pool is empty right now (counted by the caller). */
  take(kind: FactoryKind): FloodPayload | null {
    const pool = this.pools.get(kind);
    const payload = pool?.shift() ?? null;
    this.refill(kind);
    return payload;
  }

  size(kind: FactoryKind): number {
    return this.pools.get(kind)?.length ?? 0;
  }

  /** Asks for every pool to be filled; resolves when each has at least `minEach` (or `timeoutMs`). */
  async prefill(minEach: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const kind of FACTORY_KINDS) this.refill(kind);
      const ready = FACTORY_KINDS.every((k) => this.capacity[k] === 0 || this.size(k) >= Math.min(minEach, MIN_POOL));
      if (ready || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  stats(): PoolStats {
    for (const kind of FACTORY_KINDS) this.stats_.size[kind] = this.size(kind);
    return {
      size: { ...this.stats_.size },
      received: { ...this.stats_.received },
      shortAnswers: { ...this.stats_.shortAnswers },
      workerErrors: this.stats_.workerErrors,
    };
  }

  /** The worker's factory counters (signatures made, variants, valid singles vs aggregates). */
  factoryStats(timeoutMs = 2_000): Promise<PayloadFactoryStats | null> {
    if (this.closed) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(id, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.post({ type: "stats", id });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private refill(kind: FactoryKind): void {
    const pool = this.pools.get(kind);
    const cap = this.capacity[kind];
    if (this.closed || pool === undefined || cap === 0 || this.requested.has(kind)) return;
    if (pool.length >= cap / 2) return;
    this.requested.add(kind);
    this.post({ type: "produce", id: this.nextId++, kind, count: Math.min(MAX_REQUEST, cap - pool.length) });
  }

  private onMessage(message: FromFactory): void {
    if (message.type === "stats") {
      this.waiters.get(message.id)?.(message.stats);
      this.waiters.delete(message.id);
      return;
    }
    if (message.type === "error") {
      this.stats_.workerErrors++;
      for (const kind of FACTORY_KINDS) this.requested.delete(kind);
      return;
    }
    this.requested.delete(message.kind);
    const payloads = unpackBatch(message.kind, message.batch);
    const pool = this.pools.get(message.kind);
    if (pool === undefined) return;
    const room = Math.max(0, this.capacity[message.kind] - pool.length);
    for (const p of payloads.slice(0, room)) pool.push(p);
    this.stats_.received[message.kind] += payloads.length;
    if (payloads.length === 0) {
      // Nothing to build on yet: ask again on the next take() rather than spinning now.
      this.stats_.shortAnswers[message.kind]++;
      return;
    }
    this.refill(message.kind);
  }

  private post(message: ToFactory): void {
    this.worker.postMessage(message);
  }
}

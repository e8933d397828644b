// GET /eth/v1/events: Beacon-API server-sent events (PROTOCOL.md section 7). Each chain event is
// formatted and serialized once, only when some subscriber wants its topic, and the same bytes go
// to every subscriber. A subscriber whose socket buffer passes the cap is disconnected and counted
// (never buffered without bound); idle streams get comment lines so proxies keep them open. The
// lean chain has no epochs: every Beacon `epoch` field carries the slot.
import type { ServerResponse } from "node:http";
import { ApiError } from "@metronome/api";
import { type AttestationData, type Checkpoint, toHex, ZERO_ROOT } from "@metronome/chain";
import type { FastifyInstance } from "fastify";
import type {
  AttestationEvent,
  BlockEvent,
  ChainEventSource,
  FinalizedEvent,
  HeadEvent,
  ReorgEvent,
} from "../chain/chainEvents.ts";

export const EVENT_TOPICS = ["head", "block", "chain_reorg", "finalized_checkpoint", "attestation"] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

export const DEFAULT_MAX_SUBSCRIBERS = 256;
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** Sent as the SSE `retry:` field: EventSource clients wait this long before reconnecting. */
export const DEFAULT_RETRY_MS = 5_000;
/** Seconds a refused subscriber is told to wait (Retry-After), to damp reconnect storms. */
const RETRY_AFTER_SECONDS = 5;

export type { ChainEventSource };

export interface EventsPluginOptions {
  events: ChainEventSource;
  /**
   * Root of the block at the highest slot <= `slot` on `headRoot`'s chain (store.getAncestorAtSlot),
   * for the head event's duty-dependent roots; undefined when that block is no longer known.
   */
  blockRootAtSlot: (headRoot: Uint8Array, slot: number) => Uint8Array | undefined;
  maxSubscribers?: number;
  /** Per-subscriber cap on bytes queued in the socket's write buffer. */
  maxBufferedBytes?: number;
  keepAliveMs?: number;
  retryMs?: number;
}

export interface EventStreamStats {
  subscribers: number;
  subscribersByTopic: Record<EventTopic, number>;
  /** Streams ever opened. */
  accepted: number;
  /** Subscriptions refused with 503 because maxSubscribers streams were open. */
  rejectedFull: number;
  /** Streams cut because their write buffer passed maxBufferedBytes. */
  slowConsumerDrops: number;
  /** Events serialized (once per event, whatever the subscriber count). */
  eventsSerialized: number;
  /** Event frames written to sockets (one per subscriber per event). */
  framesWritten: number;
  keepAlivesSent: number;
}

export type EventsPlugin = ((app: FastifyInstance) => void) & { stats(): EventStreamStats };

// ---- payloads (Beacon API field for field) ---------------------------------------------------

type Json = string | boolean | Json[] | { [key: string]: Json };

export function headEventJson(
  event: HeadEvent,
  blockRootAtSlot: EventsPluginOptions["blockRootAtSlot"],
): Record<string, Json> {
  // Beacon: current = root at the last slot of epoch-1, previous = of epoch-2; with one-slot
  // epochs that is slot-1 and slot-2 on the head's chain, the genesis block on underflow.
  const rootAt = (slot: number) => toHex(blockRootAtSlot(event.root, Math.max(0, slot)) ?? ZERO_ROOT);
  return {
    slot: String(event.slot),
    block: toHex(event.root),
    state: toHex(event.stateRoot),
    // Every slot starts an epoch: the head's epoch changed iff its slot did.
    epoch_transition: event.slot !== event.previousHead.slot,
    previous_duty_dependent_root: rootAt(event.slot - 2),
    current_duty_dependent_root: rootAt(event.slot - 1),
    execution_optimistic: false,
  };
}

export function blockEventJson(event: BlockEvent): Record<string, Json> {
  return { slot: String(event.slot), block: toHex(event.root), execution_optimistic: false };
}

export function chainReorgEventJson(event: ReorgEvent): Record<string, Json> {
  return {
    slot: String(event.slot),
    depth: String(event.depth),
    old_head_block: toHex(event.oldHead.root),
    new_head_block: toHex(event.newHead.root),
    old_head_state: toHex(event.oldHeadStateRoot),
    new_head_state: toHex(event.newHeadStateRoot),
    epoch: String(event.slot),
    execution_optimistic: false,
  };
}

export function finalizedCheckpointEventJson(event: FinalizedEvent): Record<string, Json> {
  return {
    block: toHex(event.checkpoint.root),
    state: toHex(event.stateRoot),
    epoch: String(event.checkpoint.slot),
    execution_optimistic: false,
  };
}

/** SSZ Bitlist hex with bit i set for each index; bit length = highest index + 1 (as aggregates carry). */
export function bitlistHex(indices: readonly number[]): string {
  const bitLen = indices.reduce((max, i) => Math.max(max, i + 1), 0);
  const bytes = new Uint8Array(Math.floor(bitLen / 8) + 1);
  for (const i of indices) bytes[i >> 3] = (bytes[i >> 3] as number) | (1 << (i & 7));
  // The delimiter bit marks the list's length.
  bytes[bitLen >> 3] = (bytes[bitLen >> 3] as number) | (1 << (bitLen & 7));
  return toHex(bytes);
}

function checkpointJson(cp: Checkpoint): Record<string, Json> {
  return { epoch: String(cp.slot), root: toHex(cp.root), slot: String(cp.slot) };
}

function attestationDataJson(data: AttestationData): Record<string, Json> {
  return {
    slot: String(data.slot),
    index: "0",
    beacon_block_root: toHex(data.head.root),
    head: { root: toHex(data.head.root), slot: String(data.head.slot) },
    source: checkpointJson(data.source),
    target: checkpointJson(data.target),
  };
}

/**
 * A phase0 Beacon Attestation (aggregation_bits, data{slot, index, beacon_block_root, source,
 * target}, signature) extended with the lean fields: data.head, slot next to each checkpoint's
 * epoch, attesting_indices and whether the signature is an aggregate. aggregation_bits index
 * validators directly (there is one committee: index is always "0").
 */
export function attestationEventJson(event: AttestationEvent): Record<string, Json> {
  const indices = [...event.validatorIndices].sort((a, b) => a - b);
  return {
    aggregation_bits: bitlistHex(indices),
    data: attestationDataJson(event.data),
    signature: toHex(event.signature),
    attesting_indices: indices.map(String),
    aggregated: event.aggregated,
  };
}

// ---- topics ------------------------------------------------------------------------------------

const TOPIC_SET: ReadonlySet<string> = new Set(EVENT_TOPICS);

/** Accepts `topics=a&topics=b` and `topics=a,b` (and mixes); 400 on a missing or unknown topic. */
export function parseTopics(raw: unknown): Set<EventTopic> {
  const parts = (Array.isArray(raw) ? raw : [raw])
    .filter((p): p is string => typeof p === "string")
    .flatMap((p) => p.split(","))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new ApiError(400, `Missing topics; supported topics: ${EVENT_TOPICS.join(", ")}`);
  const topics = new Set<EventTopic>();
  for (const part of parts) {
    if (!TOPIC_SET.has(part)) {
      throw new ApiError(400, `Invalid topic: ${part.slice(0, 64)}; supported topics: ${EVENT_TOPICS.join(", ")}`);
    }
    topics.add(part as EventTopic);
  }
  return topics;
}

// ---- subscribers -------------------------------------------------------------------------------

interface Subscriber {
  res: ServerResponse;
  topics: ReadonlySet<EventTopic>;
  lastWriteMs: number;
}

const KEEP_ALIVE_FRAME = Buffer.from(": keepalive\n\n");

class EventHub {
  private readonly byTopic = new Map<EventTopic, Set<Subscriber>>(EVENT_TOPICS.map((t) => [t, new Set()]));
  private readonly all = new Set<Subscriber>();
  private readonly maxSubscribers: number;
  private readonly maxBufferedBytes: number;
  closing = false;
  readonly counters = {
    accepted: 0,
    rejectedFull: 0,
    slowConsumerDrops: 0,
    eventsSerialized: 0,
    framesWritten: 0,
    keepAlivesSent: 0,
  };

  constructor(maxSubscribers: number, maxBufferedBytes: number) {
    this.maxSubscribers = maxSubscribers;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  get full(): boolean {
    return this.all.size >= this.maxSubscribers;
  }

  add(res: ServerResponse, topics: ReadonlySet<EventTopic>): Subscriber {
    const sub: Subscriber = { res, topics, lastWriteMs: Date.now() };
    this.all.add(sub);
    for (const t of topics) this.byTopic.get(t)?.add(sub);
    this.counters.accepted++;
    return sub;
  }

  remove(sub: Subscriber): void {
    if (!this.all.delete(sub)) return;
    for (const t of sub.topics) this.byTopic.get(t)?.delete(sub);
  }

  /** Formats and serializes only when someone listens; one buffer shared by every subscriber. */
  publish(topic: EventTopic, payload: () => Record<string, Json>): void {
    const subs = this.byTopic.get(topic);
    if (subs === undefined || subs.size === 0) return;
    const frame = Buffer.from(`event: ${topic}\ndata: ${JSON.stringify(payload())}\n\n`);
    this.counters.eventsSerialized++;
    const now = Date.now();
    for (const sub of subs) if (this.write(sub, frame, now)) this.counters.framesWritten++;
  }

  keepAlive(idleMs: number): void {
    const now = Date.now();
    for (const sub of this.all) {
      if (now - sub.lastWriteMs >= idleMs && this.write(sub, KEEP_ALIVE_FRAME, now)) this.counters.keepAlivesSent++;
    }
  }

  /** Writes unless the subscriber is gone or too far behind; a laggard is cut off and counted. */
  write(sub: Subscriber, chunk: Buffer, now: number): boolean {
    const res = sub.res;
    if (res.destroyed || res.writableEnded) {
      this.remove(sub);
      return false;
    }
    // A consumer that already holds the cap's worth of unread bytes would only fall further behind.
    if (res.writableLength > 0 && res.writableLength + chunk.length > this.maxBufferedBytes) {
      this.dropSlow(sub);
      return false;
    }
    const flushed = res.write(chunk);
    sub.lastWriteMs = now;
    if (!flushed && res.writableLength > this.maxBufferedBytes) {
      this.dropSlow(sub);
      return false;
    }
    return true;
  }

  private dropSlow(sub: Subscriber): void {
    this.counters.slowConsumerDrops++;
    this.remove(sub);
    sub.res.destroy();
  }

  closeAll(): void {
    this.closing = true;
    for (const sub of [...this.all]) {
      this.remove(sub);
      // A stream with unsent bytes would hold the server open; cut it.
      if (sub.res.writableLength > 0) sub.res.destroy();
      else sub.res.end();
    }
  }

  stats(): EventStreamStats {
    const subscribersByTopic = Object.fromEntries(
      EVENT_TOPICS.map((t) => [t, this.byTopic.get(t)?.size ?? 0]),
    ) as Record<EventTopic, number>;
    return { subscribers: this.all.size, subscribersByTopic, ...this.counters };
  }
}

// ---- the plugin ----------------------------------------------------------------------------------

export function eventsPlugin(options: EventsPluginOptions): EventsPlugin {
  const maxSubscribers = Math.max(1, options.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS);
  const maxBufferedBytes = Math.max(1024, options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const keepAliveMs = Math.max(10, options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
  const retryMs = Math.max(0, Math.floor(options.retryMs ?? DEFAULT_RETRY_MS));
  const hub = new EventHub(maxSubscribers, maxBufferedBytes);
  const { blockRootAtSlot } = options;

  const register = (app: FastifyInstance): void => {
    const unsubscribe = [
      options.events.on("head", (e) => hub.publish("head", () => headEventJson(e, blockRootAtSlot))),
      options.events.on("block", (e) => hub.publish("block", () => blockEventJson(e))),
      options.events.on("chain_reorg", (e) => hub.publish("chain_reorg", () => chainReorgEventJson(e))),
      options.events.on("finalized_checkpoint", (e) =>
        hub.publish("finalized_checkpoint", () => finalizedCheckpointEventJson(e)),
      ),
      options.events.on("attestation", (e) => hub.publish("attestation", () => attestationEventJson(e))),
    ];
    // Ticking at half the period keeps every idle gap under keepAliveMs.
    const tickMs = Math.max(5, Math.floor(keepAliveMs / 2));
    const timer = setInterval(() => hub.keepAlive(tickMs), tickMs);
    timer.unref();

    app.addHook("preClose", (done) => {
      clearInterval(timer);
      for (const off of unsubscribe) off();
      hub.closeAll();
      done();
    });

    app.get<{ Querystring: { topics?: string | string[] } }>("/eth/v1/events", async (req, reply) => {
      const topics = parseTopics(req.query.topics);
      if (hub.closing) throw new ApiError(503, "Server is shutting down");
      if (hub.full) {
        hub.counters.rejectedFull++;
        void reply.header("Retry-After", String(RETRY_AFTER_SECONDS));
        throw new ApiError(503, `Too many event stream subscribers (limit ${maxSubscribers})`);
      }
      reply.hijack();
      const res = reply.raw;
      const socket = req.raw.socket;
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      res.writeHead(200, {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache, no-transform",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
      const sub = hub.add(res, topics);
      res.on("close", () => hub.remove(sub));
      res.on("error", () => hub.remove(sub));
      // Sends the headers at once and tells EventSource clients how long to back off on reconnect.
      hub.write(sub, Buffer.from(`retry: ${retryMs}\n\n`), Date.now());
    });
  };

  return Object.assign(register, { stats: () => hub.stats() });
}

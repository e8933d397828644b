// Follows the head of every configured beacon node through one event stream each
// (/eth/v1/events?topics=head,chain_reorg) and keeps, per node URL, the latest head it announced.
//
// Failure model (issue 6, after the Lighthouse head-monitor bugs in the seeds):
// - Each stream fails and recovers on its own. The streams run in SseStream's "manual" reconnect
//   mode and this monitor drives the retries: on every slot boundary each closed stream gets one
//   connection attempt, while open streams keep flowing untouched.
// - A node's head entry is removed the moment its stream drops, so heads() only ever shows nodes
//   that are connected right now.
// - When every node has been unreachable for MAX_UNREACHABLE_ROUNDS consecutive retry rounds, the
//   monitor reports an error, stops all streams, and restarts from scratch on the next slot.
// - Nothing runs while nothing is connected except one timer per slot: no spinning.
// - A reader that dies (a consumer exception, a failed read) closes its stream; the next slot
//   boundary reconnects it like any other drop.
// Heads are keyed by URL, never by list position, so replacing the node list cannot misattribute.
import { checkUrls, errorText, eventsUrl, parseHeadEvent, parseReorgEvent } from "./headEvents.ts";
import type {
  HeadMonitorMetrics,
  HeadMonitorOptions,
  HeadMonitorStats,
  HeadUpdate,
  MonitorRestartReason,
  NodeStreamStatus,
} from "./headMonitorTypes.ts";
import { type SseEvent, type SseLog, SseStream } from "./sseStream.ts";

export { eventsUrl, HEAD_EVENTS_PATH, MAX_MONITORED_NODES } from "./headEvents.ts";
export * from "./headMonitorTypes.ts";

/** Consecutive retry rounds with every node unreachable before the monitor errors and restarts. */
export const MAX_UNREACHABLE_ROUNDS = 5;
/** Slots remembered by firstHeadForSlot (oldest dropped first). */
const FIRST_HEADS_CAP = 64;

interface NodeStream {
  url: string;
  stream: SseStream;
  open: boolean;
  /** Set when the stream is being shut down by the monitor: its callbacks are ignored from then on. */
  retired: boolean;
}

export class HeadMonitor {
  readonly stats: HeadMonitorStats = {
    slotTicks: 0,
    retries: 0,
    disconnections: 0,
    reconnections: 0,
    unreachableErrors: 0,
  };
  private readonly options: HeadMonitorOptions;
  private readonly now: () => number;
  private readonly connectTimeoutMs: number;
  private urls: string[];
  private readonly nodes = new Map<string, NodeStream>();
  private readonly latest = new Map<string, HeadUpdate>();
  private readonly firstHeads = new Map<number, HeadUpdate>();
  /** URLs whose stream was open and dropped, until it is open again (for the reconnection count). */
  private readonly dropped = new Set<string>();
  private unreachableRounds = 0;
  private restartDue = false;
  private restartCount = 0;
  private started = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastTickSlot: number | undefined;
  /** Start/stop/restart/replace run one at a time, in call order. */
  private lifecycle: Promise<void> = Promise.resolve();

  constructor(options: HeadMonitorOptions) {
    if (!Number.isFinite(options.slotDurationMs) || options.slotDurationMs <= 0)
      throw new RangeError(`slotDurationMs must be positive, got ${options.slotDurationMs}`);
    if (!Number.isFinite(options.genesisTimeMs)) throw new RangeError("genesisTimeMs must be a finite number");
    this.options = options;
    this.now = options.now ?? Date.now;
    this.connectTimeoutMs = options.connectTimeoutMs ?? Math.min(5_000, Math.floor((options.slotDurationMs * 3) / 4));
    this.urls = checkUrls(options.urls);
  }

  /** Monitor restarts: after every node stayed unreachable, and on replaceUrls. */
  get restarts(): number {
    return this.restartCount;
  }

  /** The node list currently monitored, in the order given. */
  currentUrls(): string[] {
    return [...this.urls];
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.startStreams();
    this.scheduleTick();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.serialize(() => this.stopStreams());
    this.firstHeads.clear();
  }

  /** Restarts the monitor with a new node list (validated first; throws on a bad list). */
  replaceUrls(urls: string[]): Promise<void> {
    const next = checkUrls(urls);
    return this.serialize(async () => {
      const kept = new Set(next);
      for (const url of this.dropped) if (!kept.has(url)) this.dropped.delete(url);
      for (const [slot, head] of this.firstHeads) if (!kept.has(head.url)) this.firstHeads.delete(slot);
      if (!this.started || this.stopped) {
        this.urls = next;
        return;
      }
      await this.stopStreams();
      this.urls = next;
      this.restart("replace_urls");
    });
  }

  /** Latest head per connected URL (a node's entry disappears as soon as its stream drops). */
  heads(): Map<string, HeadUpdate> {
    return new Map(this.latest);
  }

  firstHeadForSlot(slot: number): HeadUpdate | undefined {
    return this.firstHeads.get(slot);
  }

  /** Connected URLs whose latest head is at least one slot behind the best connected head. */
  laggingUrls(): Set<string> {
    let best = -1;
    for (const head of this.latest.values()) best = Math.max(best, head.slot);
    const lagging = new Set<string>();
    for (const [url, head] of this.latest) if (head.slot < best) lagging.add(url);
    return lagging;
  }

  /** Per-URL stream state and counters (for the admin API, metrics and tests). */
  streamStatus(): Map<string, NodeStreamStatus> {
    const status = new Map<string, NodeStreamStatus>();
    for (const [url, node] of this.nodes) status.set(url, { state: node.stream.state, ...node.stream.stats });
    return status;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  private serialize(op: () => Promise<void> | void): Promise<void> {
    const run = this.lifecycle.then(op);
    this.lifecycle = run.catch((err: unknown) => {
      this.log("error", "head monitor lifecycle step failed", { error: errorText(err) });
    });
    return run;
  }

  private startStreams(): void {
    for (const url of this.urls) {
      const node: NodeStream = {
        url,
        open: false,
        retired: false,
        stream: new SseStream({
          url: eventsUrl(url),
          reconnect: "manual",
          connectTimeoutMs: this.connectTimeoutMs,
          maxEventBytes: this.options.maxEventBytes,
          fetchImpl: this.options.fetchImpl,
          log: this.options.log,
          // Called only after start(), by which time `node` is assigned.
          onEvent: (event) => this.onEvent(node, event),
          onState: (state, reason) => this.onStreamState(node, state, reason),
        }),
      };
      this.nodes.set(url, node);
      node.stream.start();
    }
  }

  private async stopStreams(): Promise<void> {
    const nodes = [...this.nodes.values()];
    this.nodes.clear();
    for (const node of nodes) node.retired = true;
    this.latest.clear();
    await Promise.all(nodes.map((node) => node.stream.stop()));
  }

  private restart(reason: MonitorRestartReason): void {
    this.unreachableRounds = 0;
    this.restartDue = false;
    this.restartCount++;
    try {
      this.options.metrics?.monitorRestarted(reason);
    } catch (err) {
      this.log("error", "head monitor metrics callback threw", { error: errorText(err) });
    }
    this.log("info", "head monitor restarting", { reason, urls: this.urls });
    this.startStreams();
  }

  // ---- slot boundary: retries, unreachable detection ------------------------------------------

  private slotAt(ms: number): number {
    return Math.floor((ms - this.options.genesisTimeMs) / this.options.slotDurationMs);
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    const now = this.now();
    const nextSlotStart = this.options.genesisTimeMs + (this.slotAt(now) + 1) * this.options.slotDurationMs;
    this.timer = setTimeout(() => this.onTick(), Math.max(1, nextSlotStart - now));
  }

  private onTick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const slot = this.slotAt(this.now());
    if (slot === this.lastTickSlot) {
      // Woke a hair before the boundary: wait for it rather than running two rounds in one slot.
      this.scheduleTick();
      return;
    }
    this.lastTickSlot = slot;
    this.stats.slotTicks++;
    // serialize() already logged a failure; the next tick is scheduled whatever happened.
    void this.serialize(() => this.slotRound()).then(
      () => this.scheduleTick(),
      () => this.scheduleTick(),
    );
  }

  private async slotRound(): Promise<void> {
    if (this.stopped) return;
    if (this.restartDue) {
      this.restart("unreachable");
      return;
    }
    const nodes = [...this.nodes.values()];
    if (nodes.some((node) => node.stream.state === "open")) this.unreachableRounds = 0;
    else if (this.unreachableRounds >= MAX_UNREACHABLE_ROUNDS) {
      await this.giveUpUntilNextSlot();
      return;
    } else this.unreachableRounds++;
    for (const node of nodes) {
      if (node.stream.state === "closed" && node.stream.reconnect()) this.stats.retries++;
    }
  }

  private async giveUpUntilNextSlot(): Promise<void> {
    const err = new Error(
      `every beacon node unreachable for ${MAX_UNREACHABLE_ROUNDS} consecutive retry rounds: ${this.urls.join(", ")}`,
    );
    this.stats.unreachableErrors++;
    this.log("error", "head monitor: every beacon node unreachable; restarting on the next slot", {
      urls: this.urls,
      rounds: MAX_UNREACHABLE_ROUNDS,
    });
    this.unreachableRounds = 0;
    this.restartDue = true;
    await this.stopStreams();
    try {
      this.options.onError?.(err);
    } catch (callbackErr) {
      this.log("error", "head monitor onError callback threw", { error: errorText(callbackErr) });
    }
  }

  // ---- stream callbacks ----------------------------------------------------------------------

  private onStreamState(node: NodeStream, state: SseStream["state"], reason: string | undefined): void {
    if (node.retired) return;
    const { url } = node;
    if (state === "open") {
      node.open = true;
      if (this.dropped.delete(url)) {
        this.stats.reconnections++;
        this.metric((m) => m.streamReconnected(url));
        this.log("info", "head stream reconnected", { url });
      }
      return;
    }
    if (state !== "closed") return;
    // Drop the cached head at once: a disconnected node must not look current.
    this.latest.delete(url);
    if (!node.open) return;
    node.open = false;
    this.dropped.add(url);
    this.stats.disconnections++;
    this.metric((m) => m.streamDisconnected(url));
    this.log("warn", "head stream disconnected; retrying at the next slot", { url, reason });
  }

  private onEvent(node: NodeStream, event: SseEvent): void {
    if (node.retired) return;
    if (event.type === "head") this.onHeadEvent(node.url, event.data);
    else if (event.type === "chain_reorg") this.onReorgEvent(node.url, event.data);
    else this.log("debug", "ignoring unexpected event type", { url: node.url, type: event.type.slice(0, 64) });
  }

  private onHeadEvent(url: string, data: string): void {
    const { slot, root } = parseHeadEvent(data);
    const receivedAtMs = this.now();
    const delayMs = receivedAtMs - (this.options.genesisTimeMs + slot * this.options.slotDurationMs);
    const head: HeadUpdate = { url, slot, root, receivedAtMs, delayMs };
    this.latest.set(url, head);
    if (!this.firstHeads.has(slot)) {
      this.firstHeads.set(slot, head);
      // Insertion order is arrival order: evict the longest-remembered slot.
      while (this.firstHeads.size > FIRST_HEADS_CAP) this.firstHeads.delete(this.firstHeads.keys().next().value!);
    }
    this.metric((m) => m.headDelay(url, delayMs));
    // Not caught: a throwing consumer closes this stream (SseStream) and the next slot reconnects it.
    this.options.onHead(head);
  }

  private onReorgEvent(url: string, data: string): void {
    const reorg = parseReorgEvent(url, data);
    this.metric((m) => m.reorgDepth(url, reorg.depth));
    this.log("info", "chain reorg", { ...reorg });
    this.options.onReorg?.(reorg);
  }

  private metric(update: (m: HeadMonitorMetrics) => void): void {
    const metrics = this.options.metrics;
    if (metrics === undefined) return;
    try {
      update(metrics);
    } catch (err) {
      this.log("error", "head monitor metrics callback threw", { error: errorText(err) });
    }
  }

  private log(level: Parameters<SseLog>[0], msg: string, ctx?: Record<string, unknown>): void {
    try {
      this.options.log?.(level, msg, ctx);
    } catch {
      // A broken logger must not take the monitor down.
    }
  }
}

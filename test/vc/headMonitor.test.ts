import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { eventsPlugin } from "../../packages/node/src/api/events.ts";
import { ChainEvents } from "../../packages/node/src/chain/chainEvents.ts";
import { root, startTestServer } from "../../packages/node/test/api/helpers.ts";
import {
  HeadMonitor,
  type HeadMonitorMetrics,
  type HeadMonitorOptions,
  type HeadUpdate,
  MAX_UNREACHABLE_ROUNDS,
  type ReorgUpdate,
} from "../../packages/validator/src/headMonitor.ts";
import {
  delay,
  logCollector,
  rootOf,
  ScriptedSseServer,
  waitFor,
} from "../../packages/validator/test/scriptedSseServer.ts";

const SLOT_MS = 200;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function servers(n: number, behaviour: "sse" | "reset" = "sse"): Promise<ScriptedSseServer[]> {
  const list: ScriptedSseServer[] = [];
  for (let i = 0; i < n; i++) {
    const s = await ScriptedSseServer.start(behaviour);
    cleanup.push(() => s.close());
    list.push(s);
  }
  return list;
}

class FakeMetrics implements HeadMonitorMetrics {
  disconnected: string[] = [];
  reconnected: string[] = [];
  restarted: string[] = [];
  delays: { url: string; delayMs: number }[] = [];
  reorgDepths: { url: string; depth: number }[] = [];
  streamDisconnected(url: string): void {
    this.disconnected.push(url);
  }
  streamReconnected(url: string): void {
    this.reconnected.push(url);
  }
  monitorRestarted(reason: string): void {
    this.restarted.push(reason);
  }
  headDelay(url: string, delayMs: number): void {
    this.delays.push({ url, delayMs });
  }
  reorgDepth(url: string, depth: number): void {
    this.reorgDepths.push({ url, depth });
  }
}

interface Harness {
  monitor: HeadMonitor;
  /** fetch() calls (connection attempts) per base URL. */
  attempts: (base: string) => number;
  heads: HeadUpdate[];
  reorgs: ReorgUpdate[];
  errors: Error[];
  metrics: FakeMetrics;
  logs: ReturnType<typeof logCollector>["lines"];
  genesisTimeMs: number;
}

function monitor(urls: string[], opts: Partial<HeadMonitorOptions> = {}): Harness {
  const heads: HeadUpdate[] = [];
  const reorgs: ReorgUpdate[] = [];
  const errors: Error[] = [];
  const metrics = new FakeMetrics();
  const { lines, log } = logCollector();
  const genesisTimeMs = Date.now() - 10 * SLOT_MS;
  const calls = new Map<string, number>();
  const fetchImpl = ((input: string, init?: RequestInit) => {
    const origin = new URL(input).origin;
    calls.set(origin, (calls.get(origin) ?? 0) + 1);
    return fetch(input, init);
  }) as typeof fetch;
  const m = new HeadMonitor({
    urls,
    genesisTimeMs,
    slotDurationMs: SLOT_MS,
    onHead: (h) => heads.push(h),
    onReorg: (r) => reorgs.push(r),
    onError: (e) => errors.push(e),
    metrics,
    log,
    fetchImpl,
    connectTimeoutMs: 2000,
    ...opts,
  });
  cleanup.push(() => m.stop());
  return {
    monitor: m,
    attempts: (base) => calls.get(base) ?? 0,
    heads,
    reorgs,
    errors,
    metrics,
    logs: lines,
    genesisTimeMs,
  };
}

const subscribed =
  (...list: ScriptedSseServer[]) =>
  () =>
    list.every((s) => s.subscribers.size === 1);

describe("HeadMonitor", () => {
  it("each stream fails and recovers on its own: the dropped node's head goes at once, it is retried once per slot, the others keep flowing", async () => {
    const [a, b] = await servers(2);
    const h = monitor([a!.base, b!.base]);
    h.monitor.start();
    await waitFor(subscribed(a!, b!), "both streams open");
    assert.equal(a!.paths[0], "/eth/v1/events?topics=head,chain_reorg");
    a!.sendHead(11, rootOf(1));
    b!.sendHead(11, rootOf(2));
    await waitFor(() => h.monitor.heads().size === 2, "a head from each node");
    assert.equal(h.monitor.heads().get(a!.base)?.root, rootOf(1));
    assert.equal(h.monitor.heads().get(b!.base)?.root, rootOf(2));

    // Node a goes bad: its open stream is cut and every new connection is reset.
    a!.behaviour = "reset";
    a!.dropSubscribers();
    await waitFor(() => !h.monitor.heads().has(a!.base), "a's head removed at once", SLOT_MS);
    assert.deepEqual(h.metrics.disconnected, [a!.base]);

    // Four slots with a down: one attempt per slot boundary, while b's heads keep arriving.
    const attemptsBefore = h.attempts(a!.base);
    const ticksBefore = h.monitor.stats.slotTicks;
    for (let slot = 12; h.monitor.stats.slotTicks < ticksBefore + 4; slot++) {
      const seen = h.heads.length;
      b!.sendHead(slot, rootOf(2));
      await waitFor(() => h.heads.length === seen + 1, `b's head for slot ${slot}`);
      await delay(SLOT_MS / 4);
    }
    const retries = h.attempts(a!.base) - attemptsBefore;
    assert.ok(retries >= 3 && retries <= 5, `${retries} attempts on a in 4 slots`);
    assert.equal(h.attempts(b!.base), 1, "b's stream was never interrupted");
    assert.deepEqual([...h.monitor.heads().keys()], [b!.base]);

    // a comes back: its stream is open again within one slot (plus scheduling slack).
    a!.behaviour = "sse";
    const ticksAtBack = h.monitor.stats.slotTicks;
    await waitFor(subscribed(a!), "a re-subscribed", 5 * SLOT_MS);
    // The first round after it came back reconnects it (allow one more tick for a slow connect).
    assert.ok(h.monitor.stats.slotTicks <= ticksAtBack + 2, "back within a slot");
    a!.sendHead(20, rootOf(1));
    await waitFor(() => h.monitor.heads().get(a!.base)?.slot === 20, "a's head again");
    assert.deepEqual(h.metrics.reconnected, [a!.base]);
    assert.deepEqual(h.metrics.disconnected, [a!.base]);
    assert.equal(h.monitor.stats.reconnections, 1);
    assert.equal(h.monitor.restarts, 0);
    assert.equal(h.errors.length, 0);
  });

  it(`after ${MAX_UNREACHABLE_ROUNDS} retry rounds with every node unreachable: onError, restart on the next slot, no spinning`, async () => {
    const [a, b] = await servers(2, "reset");
    let attemptsAtError = -1;
    let ticksAtError = -1;
    const h = monitor([a!.base, b!.base], {
      onError: (e) => {
        h.errors.push(e);
        attemptsAtError = h.attempts(a!.base) + h.attempts(b!.base);
        ticksAtError = h.monitor.stats.slotTicks;
      },
    });
    let attemptsAtRestart = -1;
    const recordRestart = h.metrics.monitorRestarted.bind(h.metrics);
    h.metrics.monitorRestarted = (reason) => {
      attemptsAtRestart = h.attempts(a!.base) + h.attempts(b!.base);
      recordRestart(reason);
    };
    const cpuBefore = process.cpuUsage();
    const startedAt = Date.now();
    h.monitor.start();
    await waitFor(() => h.errors.length === 1, "onError", 20 * SLOT_MS);
    // Per node: the first attempt at start plus one per retry round (fewer only if a tick found an
    // attempt still in flight).
    assert.ok(attemptsAtError <= 2 * (1 + MAX_UNREACHABLE_ROUNDS), `${attemptsAtError} attempts before the error`);
    assert.ok(attemptsAtError >= 2 * MAX_UNREACHABLE_ROUNDS - 2, `${attemptsAtError} attempts before the error`);
    assert.ok(ticksAtError >= MAX_UNREACHABLE_ROUNDS + 1, `error at tick ${ticksAtError}`);
    assert.match(h.errors[0]!.message, /every beacon node unreachable/);
    assert.equal(h.monitor.restarts, 0);
    await waitFor(() => h.monitor.restarts === 1, "restart on the next slot", 5 * SLOT_MS);
    assert.equal(h.monitor.stats.slotTicks, ticksAtError + 1, "restarted on the very next slot");
    assert.equal(attemptsAtRestart, attemptsAtError, "nothing tried in the slot between the error and the restart");
    assert.deepEqual(h.metrics.restarted, ["unreachable"]);
    assert.equal(h.monitor.stats.unreachableErrors, 1);

    const elapsed = Date.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    // One timer per slot, one attempt per node per slot, and the CPU idle in between.
    assert.ok(
      h.monitor.stats.slotTicks <= elapsed / SLOT_MS + 1,
      `${h.monitor.stats.slotTicks} ticks in ${elapsed} ms`,
    );
    assert.ok(h.attempts(a!.base) <= elapsed / SLOT_MS + 2, `${h.attempts(a!.base)} attempts in ${elapsed} ms`);
    assert.ok(cpuMs < elapsed * 0.5, `${cpuMs} ms CPU in ${elapsed} ms`);
    assert.equal(h.monitor.heads().size, 0);

    // Once a node answers, the restarted monitor follows it and the error does not repeat.
    a!.behaviour = "sse";
    await waitFor(subscribed(a!), "a subscribed after the restart", 3 * SLOT_MS);
    a!.sendHead(30, rootOf(1));
    await waitFor(() => h.heads.length === 1, "a head");
    const ticks = h.monitor.stats.slotTicks;
    await waitFor(() => h.monitor.stats.slotTicks >= ticks + MAX_UNREACHABLE_ROUNDS + 2, "more slots", 20 * SLOT_MS);
    assert.equal(h.errors.length, 1);
    assert.equal(h.monitor.restarts, 1);
  });

  it("replaceUrls restarts with the new set and attributes heads by URL across order and membership changes", async () => {
    const [a, b, c] = await servers(3);
    const rootFor = new Map([
      [a!.base, rootOf(0xa)],
      [b!.base, rootOf(0xb)],
      [c!.base, rootOf(0xc)],
    ]);
    const sendAll = (slot: number) => {
      for (const s of [a!, b!, c!]) s.sendHead(slot, rootFor.get(s.base)!);
    };
    const h = monitor([a!.base, b!.base]);
    h.monitor.start();
    await waitFor(subscribed(a!, b!), "a and b open");
    sendAll(11);
    await waitFor(() => h.monitor.heads().size === 2, "heads from a and b");

    await h.monitor.replaceUrls([c!.base, a!.base]);
    assert.equal(h.monitor.restarts, 1);
    assert.deepEqual(h.monitor.currentUrls(), [c!.base, a!.base]);
    await waitFor(
      () => a!.requests === 2 && c!.requests === 1 && subscribed(a!, c!)() && b!.subscribers.size === 0,
      "c and a (re)opened, b closed",
    );
    sendAll(12);
    await waitFor(() => h.monitor.heads().size === 2, "heads from c and a");
    assert.deepEqual([...h.monitor.heads().keys()].sort(), [a!.base, c!.base].sort());

    await h.monitor.replaceUrls([a!.base, c!.base]);
    await waitFor(
      () => a!.requests === 3 && c!.requests === 2 && subscribed(a!, c!)(),
      "a and c re-opened after the second replacement",
    );
    sendAll(13);
    await waitFor(
      () => [...h.monitor.heads().values()].every((x) => x.slot === 13) && h.monitor.heads().size === 2,
      "slot 13 heads",
    );
    for (const [url, head] of h.monitor.heads()) assert.equal(head.root, rootFor.get(url), `head of ${url}`);
    for (const head of h.heads) assert.equal(head.root, rootFor.get(head.url), `onHead for ${head.url}`);
    assert.equal(h.heads.filter((x) => x.url === b!.base && x.slot > 11).length, 0, "nothing from b after removal");
    assert.deepEqual(h.metrics.restarted, ["replace_urls", "replace_urls"]);
    assert.deepEqual(h.metrics.disconnected, [], "retiring a stream is not a disconnection");
    assert.equal(h.monitor.restarts, 2);

    // A bad list is refused and leaves the monitor as it was.
    assert.throws(() => h.monitor.replaceUrls([]), /at least one/);
    assert.throws(() => h.monitor.replaceUrls(["ftp://x"]), /http/);
    assert.deepEqual(h.monitor.currentUrls(), [a!.base, c!.base]);
  });

  it("malformed head and reorg events are logged and skipped; the stream lives on", async () => {
    const [a] = await servers(1);
    const h = monitor([a!.base]);
    h.monitor.start();
    await waitFor(subscribed(a!), "open");
    a!.sendEvent("head", "{not json");
    a!.sendEvent("head", { slot: "5" });
    a!.sendEvent("head", { slot: "five", block: rootOf(1) });
    a!.sendEvent("head", { slot: "5", block: "0x1234" });
    a!.sendEvent("chain_reorg", { slot: "5", old_head_block: rootOf(1), new_head_block: rootOf(2) });
    a!.sendEvent("head", [1, 2]);
    a!.sendEvent("head", { slot: "6", block: rootOf(6).toUpperCase().replace("0X", "0x") });
    await waitFor(() => h.heads.length === 1, "the valid head");
    assert.deepEqual({ slot: h.heads[0]!.slot, root: h.heads[0]!.root }, { slot: 6, root: rootOf(6) });
    assert.equal(h.monitor.streamStatus().get(a!.base)?.malformed, 6);
    assert.equal(h.monitor.streamStatus().get(a!.base)?.state, "open");
    assert.equal(a!.requests, 1);
    assert.equal(h.reorgs.length, 0);
    assert.equal(h.logs.filter((l) => l.msg === "malformed event skipped").length, 6);
  });

  it("a reader killed by a throwing onHead is noticed and restarted at the next slot", async () => {
    const [a] = await servers(1);
    let calls = 0;
    const h = monitor([a!.base], {
      onHead: (head) => {
        if (++calls === 1) throw new Error("consumer bug");
        h.heads.push(head);
      },
    });
    h.monitor.start();
    await waitFor(subscribed(a!), "open");
    a!.sendHead(11, rootOf(1));
    await waitFor(() => h.metrics.disconnected.length === 1, "the stream was closed");
    assert.equal(h.monitor.heads().size, 0, "the dead stream's head is gone");
    await waitFor(() => a!.requests === 2 && a!.subscribers.size === 1, "restarted", 3 * SLOT_MS);
    a!.sendHead(12, rootOf(2));
    await waitFor(() => h.heads.length === 1, "heads flow again");
    assert.equal(h.heads[0]!.slot, 12);
    assert.equal(h.monitor.streamStatus().get(a!.base)?.readerErrors, 1);
    assert.deepEqual(h.metrics.reconnected, [a!.base]);
    assert.ok(h.logs.some((l) => l.level === "error" && /consumer threw/.test(l.msg)));
  });

  it("tracks the first head per slot, lagging nodes, head delay and reorgs", async () => {
    const [a, b, c] = await servers(3);
    const h = monitor([a!.base, b!.base, c!.base]);
    h.monitor.start();
    await waitFor(subscribed(a!, b!, c!), "all open");
    a!.sendHead(20, rootOf(1));
    await waitFor(() => h.heads.length === 1, "a first");
    b!.sendHead(20, rootOf(1));
    c!.sendHead(19, rootOf(9));
    await waitFor(() => h.heads.length === 3, "three heads");
    const first = h.monitor.firstHeadForSlot(20);
    assert.equal(first?.url, a!.base);
    assert.equal(h.monitor.firstHeadForSlot(19)?.url, c!.base);
    assert.equal(h.monitor.firstHeadForSlot(21), undefined);
    assert.deepEqual([...h.monitor.laggingUrls()], [c!.base]);
    for (const head of h.heads) {
      assert.equal(head.delayMs, head.receivedAtMs - (h.genesisTimeMs + head.slot * SLOT_MS));
    }
    assert.deepEqual(
      h.metrics.delays.map((d) => d.url),
      h.heads.map((x) => x.url),
    );
    c!.sendHead(20, rootOf(1));
    await waitFor(() => h.heads.length === 4, "c catches up");
    assert.equal(h.monitor.laggingUrls().size, 0);

    b!.sendEvent("chain_reorg", {
      slot: "21",
      depth: "2",
      old_head_block: rootOf(1),
      new_head_block: rootOf(2),
      old_head_state: rootOf(3),
      new_head_state: rootOf(4),
      epoch: "21",
      execution_optimistic: false,
    });
    await waitFor(() => h.reorgs.length === 1, "reorg");
    assert.deepEqual(h.reorgs[0], { url: b!.base, slot: 21, depth: 2, oldHead: rootOf(1), newHead: rootOf(2) });
    assert.deepEqual(h.metrics.reorgDepths, [{ url: b!.base, depth: 2 }]);
  });

  it("a node that never answers is retried each slot under the connect timeout; stop() ends everything", async () => {
    const [good] = await servers(1);
    const [hang] = await servers(1);
    hang!.behaviour = "hang";
    const h = monitor([good!.base, hang!.base], { connectTimeoutMs: 100 });
    h.monitor.start();
    await waitFor(subscribed(good!), "good open");
    await waitFor(() => hang!.requests >= 3, "hanging node retried", 10 * SLOT_MS);
    good!.sendHead(11, rootOf(1));
    await waitFor(() => h.heads.length === 1, "good's head");
    assert.equal(h.monitor.streamStatus().get(hang!.base)?.connects, 0);
    assert.ok((h.monitor.streamStatus().get(hang!.base)?.connectFailures ?? 0) >= 2);

    await h.monitor.stop();
    await waitFor(() => good!.subscribers.size === 0, "streams closed by stop()");
    const ticks = h.monitor.stats.slotTicks;
    const attempts = h.attempts(good!.base) + h.attempts(hang!.base);
    await delay(2 * SLOT_MS);
    assert.equal(h.monitor.stats.slotTicks, ticks, "no timer after stop()");
    assert.equal(h.attempts(good!.base) + h.attempts(hang!.base), attempts, "no attempts after stop()");
    assert.equal(h.monitor.heads().size, 0);
  });

  it("follows the node's own /eth/v1/events route (API server with the events plugin)", async () => {
    const events = new ChainEvents();
    const plugin = eventsPlugin({ events, blockRootAtSlot: (_head, slot) => root(slot), keepAliveMs: 50 });
    const server = await startTestServer([plugin]);
    cleanup.push(() => server.close());
    const h = monitor([server.base]);
    h.monitor.start();
    await waitFor(() => plugin.stats().subscribersByTopic.chain_reorg === 1, "subscribed to head and chain_reorg");
    assert.equal(plugin.stats().subscribersByTopic.head, 1);
    events.emit("head", { slot: 12, root: root(12), stateRoot: root(120), previousHead: { root: root(11), slot: 11 } });
    events.emit("chain_reorg", {
      slot: 12,
      depth: 1,
      oldHead: { root: root(11), slot: 11 },
      newHead: { root: root(12), slot: 12 },
      oldHeadStateRoot: root(110),
      newHeadStateRoot: root(120),
    });
    await waitFor(() => h.heads.length === 1 && h.reorgs.length === 1, "head and reorg");
    assert.deepEqual(
      { url: h.heads[0]!.url, slot: h.heads[0]!.slot, root: h.heads[0]!.root },
      { url: server.base, slot: 12, root: rootOf(12) },
    );
    assert.deepEqual(h.reorgs[0], { url: server.base, slot: 12, depth: 1, oldHead: rootOf(11), newHead: rootOf(12) });
    // Keep-alive comments (every 50 ms here) are neither events nor malformed.
    await waitFor(() => plugin.stats().keepAlivesSent >= 2, "keep-alives");
    assert.equal(h.monitor.streamStatus().get(server.base)?.malformed, 0);
    await server.close();
    await waitFor(() => h.monitor.heads().size === 0, "head dropped when the node shuts down");
    assert.deepEqual(h.metrics.disconnected, [server.base]);
  });

  it("rejects a bad node list up front", () => {
    const base = { genesisTimeMs: 0, slotDurationMs: 1000, onHead: () => {} };
    assert.throws(() => new HeadMonitor({ ...base, urls: [] }), /at least one/);
    assert.throws(() => new HeadMonitor({ ...base, urls: ["not a url"] }), /invalid beacon node URL/);
    const m = new HeadMonitor({ ...base, urls: ["http://127.0.0.1:3/", "http://127.0.0.1:3/"] });
    assert.deepEqual(m.currentUrls(), ["http://127.0.0.1:3/"]);
  });
});

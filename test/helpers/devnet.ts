// A throwaway devnet for the scenario tests: fresh genesis on free loopback ports, real
// `metronome node` processes (through the launcher's Devnet class), health polling with deadlines,
// and a teardown that never leaves a process behind, so `node --test` always exits.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, ApiClientError, headerRoute } from "@metronome/api";
import { toHex } from "@metronome/chain";
import type { NodeEntry } from "../../packages/common/src/genesisConfig.ts";
import { type GenesisResult, runGenesis } from "../../packages/devnet/src/genesisCommand.ts";
import { fetchHealth, type NodeHealth } from "../../packages/devnet/src/health.ts";
import { Devnet, type DevnetNodeProcess, nodeArgs } from "../../packages/devnet/src/launcher.ts";
import { renderStatusTable } from "../../packages/devnet/src/statusTable.ts";

export type { NodeHealth };

export interface TestDevnetOptions {
  /** Used in the temp folder's name, to find the logs of a failed run. */
  name: string;
  /** Genesis node entries (not all need to be started). */
  nodes: number;
  validators: number;
  slotSeconds?: number;
  /** Seconds from genesis creation to genesis; default leaves every node time to boot first. */
  genesisDelaySec?: number;
  aggregators?: number;
  /** Attestation subnets (default 1, the protocol's; `metronome devnet` picks more past 8 nodes). */
  committeeCount?: number;
  logLevel?: string;
  /**
   * `--doppelganger-slots` of every node this devnet starts (default 0: the tests that are not
   * about it keep their timing when they restart nodes after genesis; a test passing its own
   * `--doppelganger-slots` overrides it, the last flag wins).
   */
  doppelgangerSlots?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Tracked {
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  exit: ExitInfo | null;
}

/** Port bands below Linux's ephemeral range (32768+), so outgoing dials never take our ports. */
const PORT_BANDS = { p2p: 20_000, http: 24_000, metrics: 28_000 } as const;
const PORT_BAND_WIDTH = 4_000;
const POLL_MS = 250;

/** Every child any TestDevnet started: killed on process exit, whatever happened to the test. */
const liveChildren = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

export class TestDevnet {
  readonly dir: string;
  readonly genesisDir: string;
  readonly genesis: GenesisResult;
  readonly devnet: Devnet;
  private readonly logLevel: string;
  private readonly tracked = new Map<number, Tracked>();

  private readonly baseArgs: string[];

  private constructor(dir: string, genesis: GenesisResult, logLevel: string, doppelgangerSlots: number) {
    this.dir = dir;
    this.genesisDir = join(dir, "genesis");
    this.genesis = genesis;
    this.logLevel = logLevel;
    this.baseArgs = ["--doppelganger-slots", String(doppelgangerSlots)];
    this.devnet = new Devnet(genesis.nodes, {
      genesisDir: this.genesisDir,
      outDir: dir,
      logLevel,
      extraArgs: () => this.baseArgs,
    });
  }

  static async create(o: TestDevnetOptions): Promise<TestDevnet> {
    const dir = await mkdtemp(join(tmpdir(), `metronome-${o.name}-`));
    const ports = await pickPortBases(o.nodes);
    const genesis = await runGenesis({
      validators: o.validators,
      nodes: o.nodes,
      out: join(dir, "genesis"),
      // Node processes take 1-2 s each to boot on a 2-core machine, and they boot concurrently.
      genesisDelay: o.genesisDelaySec ?? 3 + 2 * o.nodes,
      slotSeconds: o.slotSeconds ?? 1,
      basePort: ports.p2p,
      baseHttpPort: ports.http,
      baseMetricsPort: ports.metrics,
      aggregators: o.aggregators ?? 1,
      committeeCount: o.committeeCount ?? 1,
      host: "127.0.0.1",
    });
    return new TestDevnet(dir, genesis, o.logLevel ?? "info", o.doppelgangerSlots ?? 0);
  }

  get slotMs(): number {
    return this.genesis.chain.slotDurationMs;
  }

  get forkDigest(): string {
    return this.genesis.chain.forkDigest;
  }

  entry(id: number): NodeEntry {
    return this.node(id).entry;
  }

  node(id: number): DevnetNodeProcess {
    const node = this.devnet.nodes[id];
    if (node === undefined) throw new Error(`no node ${id} in this devnet`);
    return node;
  }

  /** The node's libp2p multiaddr including /p2p/<peer id>, for a test peer to dial. */
  multiaddr(id: number): string {
    const e = this.entry(id);
    return `${e.listen}/p2p/${e.peerId}`;
  }

  /** Starts (or restarts, on the same data dir) node `id`. */
  start(id: number, extraArgs: string[] = []): void {
    if (this.isRunning(id)) throw new Error(`node ${id} is already running`);
    const node = this.node(id);
    this.devnet.start(node, extraArgs);
    const child = node.child;
    if (child === null) throw new Error(`node ${id} did not spawn`);
    liveChildren.add(child);
    const tracked: Tracked = {
      child,
      exit: null,
      exited: new Promise<ExitInfo>((resolve) => {
        child.once("exit", (code, signal) => {
          liveChildren.delete(child);
          tracked.exit = { code, signal };
          resolve({ code, signal });
        });
      }),
    };
    this.tracked.set(id, tracked);
  }

  startAll(ids: number[] = this.devnet.nodes.map((n) => n.entry.nodeId)): void {
    for (const id of ids) this.start(id);
  }

  isRunning(id: number): boolean {
    const t = this.tracked.get(id);
    return t !== undefined && t.exit === null;
  }

  /** The last exit of node `id` (null while it runs or if it never ran). */
  lastExit(id: number): ExitInfo | null {
    return this.tracked.get(id)?.exit ?? null;
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still alive. */
  async stop(id: number, signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000): Promise<ExitInfo> {
    const t = this.tracked.get(id);
    if (t === undefined) throw new Error(`node ${id} was never started`);
    if (t.exit !== null) return t.exit;
    t.child.kill(signal);
    const timer = setTimeout(() => t.child.kill("SIGKILL"), graceMs);
    try {
      return await t.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the exit of node `id`, or null if it is still running after `timeoutMs`. */
  async waitExit(id: number, timeoutMs: number): Promise<ExitInfo | null> {
    const t = this.tracked.get(id);
    if (t === undefined) throw new Error(`node ${id} was never started`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      return await Promise.race([t.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async health(id: number): Promise<NodeHealth | null> {
    if (!this.isRunning(id)) return null;
    return fetchHealth(`http://127.0.0.1:${this.entry(id).httpPort}/lean/v0/health`, 2_000);
  }

  async healths(ids: number[]): Promise<(NodeHealth | null)[]> {
    return Promise.all(ids.map((id) => this.health(id)));
  }

  /**
   * Polls the health of `ids` until `ready` holds for all of them together (every node must
   * answer), or throws after `timeoutMs` with the last table and each node's log tail.
   */
  async waitForHealth(
    ids: number[],
    ready: (healths: NodeHealth[]) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<NodeHealth[]> {
    let last: (NodeHealth | null)[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const id of ids) {
        if (!this.isRunning(id))
          throw new Error(`${what}: node ${id} exited (${this.describeExit(id)})\n${this.logTail(id)}`);
      }
      last = await this.healths(ids);
      const all = last.filter((h): h is NodeHealth => h !== null);
      if (all.length === ids.length && ready(all)) return all;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.report(ids, last)}`);
      }
      await sleep(POLL_MS);
    }
  }

  /** Base URL of node `id`'s HTTP API. */
  httpUrl(id: number): string {
    return `http://127.0.0.1:${this.entry(id).httpPort}`;
  }

  /** `--bootnodes` value naming exactly `ids` (for a partitioned start). */
  bootnodesOf(ids: number[]): string {
    return ids.map((id) => this.multiaddr(id)).join(",");
  }

  /** Node `id`'s Prometheus exposition text from its metrics port. */
  async scrapeMetrics(id: number): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.entry(id).metricsPort}/metrics`, {
      signal: AbortSignal.timeout(3_000),
    });
    if (res.status !== 200) throw new Error(`node ${id} /metrics answered ${res.status}`);
    return res.text();
  }

  /** GET a JSON route of node `id`'s HTTP API. */
  async getJson(id: number, path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`http://127.0.0.1:${this.entry(id).httpPort}${path}`, {
      signal: AbortSignal.timeout(3_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the caller asserts on the raw text.
    }
    return { status: res.status, body };
  }

  /** Root of node `id`'s canonical block at `blockId` (slot, root, head, finalized), or null. */
  async headerRoot(id: number, blockId: string | number): Promise<string | null> {
    try {
      return toHex((await this.api(id).call(headerRoute, { blockId })).root);
    } catch (err) {
      // An error answer or one without a root is "no such block"; a silent node is the test's failure.
      if (err instanceof ApiClientError && (err.kind === "http" || err.kind === "decode")) return null;
      throw err;
    }
  }

  /** A typed client of node `id`'s HTTP API (packages/api). */
  api(id: number, timeoutMs = 3_000): ApiClient {
    return new ApiClient({ baseUrl: `http://127.0.0.1:${this.entry(id).httpPort}`, timeoutMs });
  }

  /**
   * Like headerRoot, but for a slot the node already reports finalized: its health shows finality
   * as soon as the fork-choice store has it, while the header route serves finalized slots from the
   * database once the finality write lands (a few ms later), so a miss is retried briefly.
   */
  async finalizedRoot(id: number, slot: number, timeoutMs = 3_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const root = await this.headerRoot(id, slot);
      if (root !== null || Date.now() > deadline) return root;
      await sleep(50);
    }
  }

  logPath(id: number): string {
    return this.node(id).logFile;
  }

  logTail(id: number, lines = 25): string {
    const path = this.logPath(id);
    if (!existsSync(path)) return `(no log for node ${id})`;
    const all = readFileSync(path, "utf8").trimEnd().split("\n");
    return `--- node ${id} log (last ${Math.min(lines, all.length)} lines) ---\n${all.slice(-lines).join("\n")}`;
  }

  /** A status table plus log tails, for assertion messages. */
  report(ids: number[], healths: (NodeHealth | null)[]): string {
    const table = renderStatusTable(
      ids.map((id, i) => ({ nodeId: id, health: healths[i] ?? null, exited: this.describeExit(id) })),
    );
    return [`devnet dir: ${this.dir}`, table, ...ids.map((id) => this.logTail(id, 12))].join("\n");
  }

  /**
   * Runs `metronome node` for entry `id` on `dataDir` as a one-off process and collects its output:
   * for start-up failures, which must end the process by themselves. `extraArgs` follow the usual
   * flags (a repeated flag overrides).
   */
  async runOnce(id: number, dataDir: string, timeoutMs: number, extraArgs: string[] = []): Promise<OneShotResult> {
    const args = [...nodeArgs(this.genesisDir, this.entry(id), dataDir, this.logLevel), ...this.baseArgs, ...extraArgs];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    liveChildren.add(child);
    let output = "";
    child.stdout?.on("data", (b: Buffer) => {
      output += b.toString("utf8");
    });
    child.stderr?.on("data", (b: Buffer) => {
      output += b.toString("utf8");
    });
    // "close", not "exit": it comes once the output pipes are drained too.
    const exited = new Promise<ExitInfo>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
    // Ends at the exit, or as soon as the health route answers (it started as if nothing was
    // wrong), or at the deadline.
    const healthUrl = `http://127.0.0.1:${this.entry(id).httpPort}/lean/v0/health`;
    let exitedYet = false;
    void exited.then(() => {
      exitedYet = true;
    });
    const deadline = Date.now() + timeoutMs;
    let stillServing = false;
    while (!exitedYet && Date.now() < deadline) {
      if ((await fetchHealth(healthUrl, 500)) !== null) {
        stillServing = true;
        break;
      }
      await Promise.race([exited, sleep(POLL_MS)]);
    }
    const timedOut = !exitedYet && !stillServing;
    if (!exitedYet) child.kill("SIGKILL");
    const exit = await exited;
    liveChildren.delete(child);
    return { ...exit, output, timedOut, stillServing };
  }

  /** Stops every node (SIGTERM, SIGKILL after `graceMs`) and deletes the folder. */
  async teardown(graceMs = 2_000): Promise<void> {
    await Promise.all([...this.tracked.keys()].map((id) => this.stop(id, "SIGTERM", graceMs)));
    if (process.env.METRONOME_KEEP_TEST_DEVNET === undefined) {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private describeExit(id: number): string | undefined {
    const exit = this.lastExit(id);
    if (exit === null) return undefined;
    return exit.signal !== null ? `killed (${exit.signal})` : `exited (${exit.code})`;
  }
}

export interface OneShotResult extends ExitInfo {
  output: string;
  /** It neither exited nor served its API by the deadline (it was then killed). */
  timedOut: boolean;
  /** Its health route answered: it had started as if nothing was wrong (it was then killed). */
  stillServing: boolean;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than null/undefined/false, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Random base ports in separate bands whose `count` consecutive ports are all free right now. */
async function pickPortBases(count: number): Promise<{ p2p: number; http: number; metrics: number }> {
  const pick = async (band: number): Promise<number> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const base = band + Math.floor(Math.random() * (PORT_BAND_WIDTH - count));
      const free = await Promise.all(Array.from({ length: count }, (_, i) => isPortFree(base + i)));
      if (free.every(Boolean)) return base;
    }
    throw new Error(`no ${count} free consecutive ports in [${band}, ${band + PORT_BAND_WIDTH})`);
  };
  return {
    p2p: await pick(PORT_BANDS.p2p),
    http: await pick(PORT_BANDS.http),
    metrics: await pick(PORT_BANDS.metrics),
  };
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

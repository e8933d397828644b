// Starts and stops a local devnet: one `metronome node` process per genesis node entry, each with
// its own data dir and log file, and a poller over their health routes.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_RUNTIME_FLAGS, type NodeEntry, nodeRuntimeEnv } from "@metronome/common";
import { fetchHealth, foreignReason, type NodeHealth } from "./health.ts";

/** Final-summary health polls: tries per node, and the timeout of each. */
const FINAL_POLL_ATTEMPTS = 3;
const FINAL_POLL_TIMEOUT_MS = 5_000;

const METRONOME_BIN = fileURLToPath(new URL("../../node/src/bin/metronome.ts", import.meta.url));

export interface DevnetNodeProcess {
  entry: NodeEntry;
  dataDir: string;
  logFile: string;
  child: ChildProcess | null;
  exit: string | null;
  /** Set by the last poll when what answered on this node's port was not this node (see foreignReason). */
  foreign: string | null;
}

export interface LaunchOptions {
  genesisDir: string;
  outDir: string;
  logLevel: string;
  /** The genesis fork digest: a polled node reporting another one is ignored as foreign. */
  forkDigest?: string;
  extraArgs?: (entry: NodeEntry) => string[];
  /** Address the launcher reaches a node's HTTP API on (default 127.0.0.1; --netns: its namespace's). */
  httpHost?: (entry: NodeEntry) => string;
  /** Rewrites the node's command line, e.g. to run it inside its network namespace. */
  wrapCommand?: (entry: NodeEntry, file: string, args: string[]) => { file: string; args: string[] };
}

export function nodeArgs(genesisDir: string, entry: NodeEntry, dataDir: string, logLevel: string): string[] {
  return [
    ...NODE_RUNTIME_FLAGS,
    METRONOME_BIN,
    "node",
    "--genesis",
    genesisDir,
    "--node-id",
    String(entry.nodeId),
    "--data-dir",
    dataDir,
    "--log-level",
    logLevel,
    // Loopback devnet: a validator client may be pointed at any node (no token on loopback).
    "--validator-api",
  ];
}

export class Devnet {
  readonly nodes: DevnetNodeProcess[];
  private readonly options: LaunchOptions;

  constructor(entries: NodeEntry[], options: LaunchOptions) {
    this.options = options;
    this.nodes = entries.map((entry) => {
      const dir = join(options.outDir, `node-${entry.nodeId}`);
      mkdirSync(dir, { recursive: true });
      return {
        entry,
        dataDir: join(dir, "data"),
        logFile: join(dir, "node.log"),
        child: null,
        exit: null,
        foreign: null,
      };
    });
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node);
  }

  /** (Re)starts one node process; its output goes to its log file. */
  start(node: DevnetNodeProcess, extra: string[] = []): void {
    const args = [
      ...nodeArgs(this.options.genesisDir, node.entry, node.dataDir, this.options.logLevel),
      ...(this.options.extraArgs?.(node.entry) ?? []),
      ...extra,
    ];
    const log = createWriteStream(node.logFile, { flags: "a" });
    const command = this.options.wrapCommand?.(node.entry, process.execPath, args) ?? { file: process.execPath, args };
    const child = spawn(command.file, command.args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: nodeRuntimeEnv(process.env),
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    node.child = child;
    node.exit = null;
    child.on("exit", (code, signal) => {
      node.exit = signal ? `killed (${signal})` : `exited (${code})`;
      if (node.child === child) node.child = null;
      log.end();
    });
  }

  /** The node's HTTP API origin as the launcher reaches it. */
  apiBase(node: DevnetNodeProcess): string {
    return `http://${this.options.httpHost?.(node.entry) ?? "127.0.0.1"}:${node.entry.httpPort}`;
  }

  healthUrl(node: DevnetNodeProcess): string {
    return `${this.apiBase(node)}/lean/v0/health`;
  }

  /**
   * Health of every running node; null for one that did not answer, or whose answer came from
   * another chain or another node (then `foreign` says why): a devnet never reads another's nodes.
   */
  async pollAll(timeoutMs?: number): Promise<(NodeHealth | null)[]> {
    return Promise.all(this.nodes.map((n) => this.poll(n, timeoutMs)));
  }

  /**
   * The health of every running node for the final summary: a node that does not answer is asked
   * again, with a longer timeout, before it is called unreachable. A busy machine (a large devnet on
   * two cores) can hold a health answer past the live table's 2 s for a moment.
   */
  async pollAllPatiently(): Promise<(NodeHealth | null)[]> {
    let healths = await this.pollAll(FINAL_POLL_TIMEOUT_MS);
    for (
      let attempt = 1;
      attempt < FINAL_POLL_ATTEMPTS &&
      healths.some((h, i) => h === null && this.nodes[i]?.child && !this.nodes[i]?.foreign);
      attempt++
    ) {
      const previous = healths;
      healths = await Promise.all(
        this.nodes.map((n, i) =>
          previous[i] === null && n.child && !n.foreign
            ? this.poll(n, FINAL_POLL_TIMEOUT_MS)
            : Promise.resolve(previous[i] ?? null),
        ),
      );
    }
    return healths;
  }

  private async poll(node: DevnetNodeProcess, timeoutMs?: number): Promise<NodeHealth | null> {
    if (!node.child) return null;
    const health = await fetchHealth(this.healthUrl(node), timeoutMs);
    node.foreign =
      health === null
        ? null
        : foreignReason(health, { forkDigest: this.options.forkDigest, peerId: node.entry.peerId });
    return node.foreign === null ? health : null;
  }

  /** SIGTERM everything, then SIGKILL whatever is still alive after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stop(n, "SIGTERM", graceMs)));
  }

  async stop(node: DevnetNodeProcess, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
    const child = node.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

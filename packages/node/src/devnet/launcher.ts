// Starts and stops a local devnet: one `metronome node` process per genesis node entry, each with
// its own data dir and log file, and a poller over their health routes.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NodeEntry } from "../config/genesisConfig.ts";
import { fetchHealth, type NodeHealth } from "./health.ts";

const METRONOME_BIN = fileURLToPath(new URL("../bin/metronome.ts", import.meta.url));

export interface DevnetNodeProcess {
  entry: NodeEntry;
  dataDir: string;
  logFile: string;
  child: ChildProcess | null;
  exit: string | null;
}

export interface LaunchOptions {
  genesisDir: string;
  outDir: string;
  logLevel: string;
  extraArgs?: (entry: NodeEntry) => string[];
}

export function nodeArgs(genesisDir: string, entry: NodeEntry, dataDir: string, logLevel: string): string[] {
  return [
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
      return { entry, dataDir: join(dir, "data"), logFile: join(dir, "node.log"), child: null, exit: null };
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
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
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

  healthUrl(node: DevnetNodeProcess): string {
    return `http://127.0.0.1:${node.entry.httpPort}/lean/v0/health`;
  }

  async pollAll(): Promise<(NodeHealth | null)[]> {
    return Promise.all(this.nodes.map((n) => (n.child ? fetchHealth(this.healthUrl(n)) : Promise.resolve(null))));
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

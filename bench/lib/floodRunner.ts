// Runs the flood benchmark's periods against node 0 of a running devnet: a quiet period only
// watches; a flood period runs `metronome flood` in its own process (its CPU read from /proc) and
// watches; node 0 is restarted first when the period needs other flags (scoring off, ablations).
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Devnet, DevnetNodeProcess } from "../../packages/devnet/src/launcher.ts";
import type { FloodSummary } from "../../packages/flood/src/flooder.ts";
import type { PeriodSummary } from "../../packages/flood/src/periodSummary.ts";
import { procCpuSeconds, type TargetProbe } from "../../packages/flood/src/targetProbe.ts";
import { pinProcess } from "./cpuPinning.ts";
import type { PlannedPeriod } from "./floodPlan.ts";
import { niceCommand } from "./niceOthers.ts";

const METRONOME = fileURLToPath(new URL("../../packages/node/src/bin/metronome.ts", import.meta.url));
/** The flooder gets this long past its duration (start-up of 16 identities included) before SIGTERM. */
const FLOODER_GRACE_S = 90;
/** After a restart of node 0: slots it runs synced before its period starts. */
const SETTLE_SLOTS = 3;

export interface PeriodResult {
  plan: PlannedPeriod;
  summary: PeriodSummary;
  flood: FloodSummary | null;
  flooderCpuPercent: number;
  /**
   * CPU of the devnet's other nodes over the period, summed (100 = one core): they stand in for
   * peers on other machines, yet share node 0's cores here.
   */
  othersCpuPercent: number;
  /** msgs/s asked of the flooder (null for a quiet period). */
  rate: number | null;
}

export interface FloodRunnerOptions {
  devnet: Devnet;
  target: DevnetNodeProcess;
  targetAddr: string;
  genesisDir: string;
  out: string;
  probe: TargetProbe;
  healthUrl: string;
  slotSeconds: number;
  warmupS: number;
  /** Node 0's flags at start-up. */
  nodeArgs: readonly string[];
  log: (line: string) => void;
  /** CPU list for the flooder (`--pin-others`), or null to leave it unpinned. */
  pinOthers: string | null;
  /** How much nicer than node 0 the flooder runs (`--nice-others`; 0: the same priority). */
  niceOthers: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

interface Health {
  head_slot?: number;
  current_slot?: number;
  finalized_slot?: number;
  sync_state?: string;
}

/** CPU seconds of a period: read at its start, then again at its end. */
class CpuWindow {
  private readonly startedAt = performance.now();
  private readonly read: () => number | null;
  private readonly start: number | null;
  constructor(read: () => number | null) {
    this.read = read;
    this.start = read();
  }

  /** Percent of one core over the window; NaN when a reading failed (a process gone or restarted). */
  percent(): number {
    const end = this.read();
    const seconds = (performance.now() - this.startedAt) / 1000;
    if (this.start === null || end === null || seconds <= 0 || end < this.start) return Number.NaN;
    return (100 * (end - this.start)) / seconds;
  }
}

export class FloodRunner {
  private readonly o: FloodRunnerOptions;
  private nodeArgs: readonly string[];
  readonly children = new Set<ChildProcess>();

  constructor(o: FloodRunnerOptions) {
    this.o = o;
    this.nodeArgs = o.nodeArgs;
  }

  health(): Promise<Health | null> {
    return fetch(this.o.healthUrl, { signal: AbortSignal.timeout(3_000) }).then(
      (r) => (r.ok ? (r.json() as Promise<Health>) : null),
      () => null,
    );
  }

  /** CPU seconds of every node but node 0, summed; null when one is not running. */
  private othersCpuSeconds(): number | null {
    let sum = 0;
    for (const node of this.o.devnet.nodes) {
      if (node === this.o.target) continue;
      const pid = node.child?.pid;
      const seconds = pid === undefined ? null : procCpuSeconds(pid);
      if (seconds === null) return null;
      sum += seconds;
    }
    return sum;
  }

  /** Restarts node 0 with `args` unless it already runs with them; waits until it is synced. */
  async ensureNodeArgs(args: readonly string[]): Promise<void> {
    if (args.join(" ") === this.nodeArgs.join(" ")) return;
    const { devnet, target, log } = this.o;
    log(`restarting node 0 with ${args.length === 0 ? "its default flags" : args.join(" ")}`);
    await devnet.stop(target, "SIGTERM");
    devnet.start(target, [...args]);
    if (target.child) this.children.add(target.child);
    this.nodeArgs = args;
    await waitFor("node 0 back and synced", 120_000, async () => {
      const h = await this.health();
      return h?.sync_state === "SYNCED" && (h.current_slot ?? 0) - (h.head_slot ?? 0) <= 2;
    });
    await sleep(SETTLE_SLOTS * this.o.slotSeconds * 1000);
  }

  async quiet(plan: PlannedPeriod): Promise<PeriodResult> {
    const { probe, log } = this.o;
    await this.ensureNodeArgs(plan.nodeArgs);
    log(`${plan.name}: ${plan.seconds} s`);
    const from = Date.now();
    const others = new CpuWindow(() => this.othersCpuSeconds());
    await probe.scrape();
    await sleep(plan.seconds * 1000);
    await probe.scrape();
    return {
      plan,
      summary: probe.summarize(plan.name, from, Date.now(), this.o.warmupS),
      flood: null,
      flooderCpuPercent: Number.NaN,
      othersCpuPercent: others.percent(),
      rate: null,
    };
  }

  async flood(plan: PlannedPeriod, rate: number): Promise<PeriodResult> {
    const f = plan.flood;
    if (f === null) throw new Error(`${plan.name} is not a flood period`);
    const { probe, log } = this.o;
    await this.ensureNodeArgs(plan.nodeArgs);
    const peers = f.peers > 1 ? ` from ${f.peers} peers` : "";
    log(`${plan.name}: ${plan.seconds} s at ${rate} msgs/s${peers}, mix ${f.mix}`);
    const summaryFile = join(this.o.out, `${plan.name.replace(/\W+/g, "-")}.json`);
    // biome-ignore format: one flag and its value per line
    const args = [
      METRONOME, "flood",
      "--target", this.o.targetAddr,
      "--genesis", this.o.genesisDir,
      "--rate", String(rate),
      "--peers", String(f.peers),
      "--duration", String(plan.seconds),
      "--mix", f.mix,
      "--report-seconds", "30",
      "--summary-file", summaryFile,
    ];
    const command = niceCommand(this.o.niceOthers, process.execPath, args);
    const child = spawn(command.file, command.args, { stdio: ["ignore", "pipe", "pipe"] });
    this.children.add(child);
    if (this.o.pinOthers !== null && child.pid !== undefined) {
      const failure = pinProcess(child.pid, this.o.pinOthers);
      if (failure !== null) log(`  flooder not pinned: ${failure}`);
    }
    let from = 0;
    let others: CpuWindow | null = null;
    let cpuStart: number | null = null;
    let cpuEnd: number | null = null;
    const sending = new Promise<void>((resolve) => {
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => {
        for (const line of chunk.split("\n").filter(Boolean)) {
          log(`  flooder: ${line}`);
          if (line.startsWith("flood: sending")) {
            from = Date.now();
            others = new CpuWindow(() => this.othersCpuSeconds());
            cpuStart = child.pid === undefined ? null : procCpuSeconds(child.pid);
            void probe.scrape();
            resolve();
          }
        }
      });
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (chunk: string) => log(`  flooder stderr: ${chunk.trim()}`));
    });
    const cpuSampler = setInterval(() => {
      if (child.pid !== undefined && child.exitCode === null) cpuEnd = procCpuSeconds(child.pid) ?? cpuEnd;
    }, 1_000);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const timeout = setTimeout(() => child.kill("SIGTERM"), (plan.seconds + FLOODER_GRACE_S) * 1000);
    await Promise.race([sending, exited]);
    const code = await exited;
    const to = Date.now();
    const othersCpuPercent = (others as CpuWindow | null)?.percent() ?? Number.NaN;
    clearTimeout(timeout);
    clearInterval(cpuSampler);
    this.children.delete(child);
    await probe.scrape();
    if (from === 0) throw new Error(`${plan.name}: the flooder exited (${code}) before sending`);
    const flood = JSON.parse(await readFile(summaryFile, "utf8")) as FloodSummary;
    const start = cpuStart as number | null;
    const end = cpuEnd as number | null;
    const flooderCpuPercent =
      start !== null && end !== null ? (100 * (end - start)) / Math.max(1, flood.elapsedS) : Number.NaN;
    return {
      plan,
      summary: probe.summarize(plan.name, from, to, this.o.warmupS),
      flood,
      flooderCpuPercent,
      othersCpuPercent,
      rate,
    };
  }
}

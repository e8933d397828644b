// Watches the flooded node: scrapes its /metrics and /lean/v0/health every few hundred ms to a
// few seconds (probeSample.ts), keeps the samples, and sums them up per period (periodSummary.ts).
import { readdirSync, readFileSync } from "node:fs";
import type { NodeHealth } from "@metronome/api";
import { type PeriodSummary, summarizeSamples } from "./periodSummary.ts";
import { extractSample, type ProbeSample } from "./probeSample.ts";

export interface TargetProbeOptions {
  metricsUrl: string;
  healthUrl: string;
  intervalMs: number;
  /** The node's process id, for CPU time from /proc (Linux). */
  pid?: () => number | undefined;
  /**
   * How many nice steps the node's BLS worker threads run below its driver (the node's
   * BLS_WORKER_NICE_OFFSET): given, the probe also sums those threads' CPU time (verifierThreadCpu).
   */
  verifierNiceOffset?: number;
  maxSamples?: number;
}

const CLOCK_TICKS = 100; // USER_HZ
const DEFAULT_MAX_SAMPLES = 20_000;

/** The fields after the command name of a /proc stat line: [0] is field 3 (state). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

const cpuSecondsOf = (fields: readonly string[]) => (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
const niceOf = (fields: readonly string[]) => Number(fields[16]);

/** User + system CPU seconds in the text of a /proc `stat` file (a process's or a thread's). */
export function statCpuSeconds(statText: string): number {
  return cpuSecondsOf(statFields(statText));
}

export function procCpuSeconds(pid: number): number | null {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** One thread of a process as /proc shows it. */
export interface ThreadCpu {
  comm: string;
  nice: number;
  cpuSeconds: number;
}

/**
 * The CPU seconds of a node's signature verification: its BLS worker and the threads blst's batch
 * call runs on, which that worker starts, so they carry its name ("WorkerThread") and its nice
 * (the process's plus BLS_WORKER_NICE_OFFSET). Nothing else in a node runs at that nice: the
 * network worker is 5 steps down, the driver and V8's helpers at the process's own.
 */
export function verifierThreadCpu(threads: readonly ThreadCpu[], processNice: number, niceOffset: number): number {
  const nice = Math.min(19, processNice + niceOffset);
  let total = 0;
  for (const t of threads) if (t.comm === "WorkerThread" && t.nice === nice) total += t.cpuSeconds;
  return total;
}

/** verifierThreadCpu over the live process's threads; null when /proc cannot say (or on a thread race). */
export function procVerifierCpuSeconds(pid: number, niceOffset: number): number | null {
  try {
    const processNice = niceOf(statFields(readFileSync(`/proc/${pid}/stat`, "utf8")));
    const threads: ThreadCpu[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const fields = statFields(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"));
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
        threads.push({ comm, nice: niceOf(fields), cpuSeconds: cpuSecondsOf(fields) });
      } catch {
        // the thread ended while we read; its time is lost to this sample only
      }
    }
    return verifierThreadCpu(threads, processNice, niceOffset);
  } catch {
    return null;
  }
}

/**
 * The kernel's memory-reclaim threads: kswapd (reclaim under memory pressure) and kdamond (DAMON,
 * which a host may configure to page out cold memory). Under a kernel that does not preempt kernel
 * code (preempt=none) a thread woken on their CPU waits for their burst to end, so their CPU time
 * beside a period's tick lateness tells the machine's share from the node's.
 */
export const RECLAIM_THREAD_NAME = /^(kdamond|kswapd)/;

/** The summed CPU seconds of the threads among `threads` whose name is a reclaim thread's. */
export function reclaimThreadCpu(threads: readonly Pick<ThreadCpu, "comm" | "cpuSeconds">[]): number {
  let total = 0;
  for (const t of threads) if (RECLAIM_THREAD_NAME.test(t.comm)) total += t.cpuSeconds;
  return total;
}

/** reclaimThreadCpu over the machine's processes (kernel threads are processes); null without /proc. */
export function procReclaimCpuSeconds(): number | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const threads: Pick<ThreadCpu, "comm" | "cpuSeconds">[] = [];
  for (const pid of pids) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (!RECLAIM_THREAD_NAME.test(comm)) continue;
      threads.push({ comm, cpuSeconds: statCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8")) });
    } catch {
      // the process ended while we read
    }
  }
  return reclaimThreadCpu(threads);
}

export class TargetProbe {
  readonly samples: ProbeSample[] = [];
  failedScrapes = 0;
  private readonly opts: TargetProbeOptions;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly failures: number[] = [];

  constructor(opts: TargetProbeOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.timer !== null) return;
    void this.scrape();
    this.timer = setInterval(() => void this.scrape(), this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One scrape now (also used to close a period on an exact sample). */
  async scrape(): Promise<ProbeSample | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      const timeout = Math.max(1_000, Math.min(5_000, this.opts.intervalMs * 2));
      const [metricsText, health] = await Promise.all([
        getText(this.opts.metricsUrl, timeout),
        getJson<NodeHealth>(this.opts.healthUrl, timeout),
      ]);
      if (metricsText === null) {
        this.failedScrapes++;
        this.failures.push(Date.now());
        return null;
      }
      const pid = this.opts.pid?.();
      const offset = this.opts.verifierNiceOffset;
      const sample = extractSample(metricsText, health, {
        cpuSeconds: pid === undefined ? null : procCpuSeconds(pid),
        verifierCpuSeconds: pid === undefined || offset === undefined ? null : procVerifierCpuSeconds(pid, offset),
        reclaimCpuSeconds: procReclaimCpuSeconds(),
      });
      this.samples.push(sample);
      if (this.samples.length > (this.opts.maxSamples ?? DEFAULT_MAX_SAMPLES)) this.samples.shift();
      return sample;
    } finally {
      this.busy = false;
    }
  }

  latest(): ProbeSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Figures over the samples taken in [fromMs, toMs]; `warmupS` is skipped for RSS growth. */
  summarize(name: string, fromMs: number, toMs: number, warmupS = 60): PeriodSummary {
    const inPeriod = this.samples.filter((s) => s.t >= fromMs && s.t <= toMs);
    const failed = this.failures.filter((t) => t >= fromMs && t <= toMs).length;
    return summarizeSamples(name, inPeriod, failed, warmupS);
  }
}

async function getText(url: string, timeoutMs: number): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return await res.text();
  } catch {
    return null;
  }
}

async function getJson<T>(url: string, timeoutMs: number): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200 && res.status !== 503) {
      await res.body?.cancel();
      return null;
    }
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

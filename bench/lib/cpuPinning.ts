// Keeps the processes that are not under measurement off the measured node's core: the flood
// bench's other devnet nodes and its flooder verify and sign the flood too (node 0 forwards what
// it accepts), and on a 2-core machine they otherwise take the cores node 0's verifier is measured
// on. Linux only (`taskset`); new threads inherit the mask of the thread that creates them, so
// pinning every thread of a running process once is enough.
import { spawnSync } from "node:child_process";

/** A CPU list as taskset takes it ("1", "2-3", "0,2"). */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

export class CpuListError extends Error {}

export function parseCpuList(text: string): string {
  if (!CPU_LIST.test(text)) throw new CpuListError(`--pin-others takes a CPU list such as 1 or 2-3, not "${text}"`);
  return text;
}

/** Pins every thread of `pid` to `cpus`; returns an error message or null. */
export function pinProcess(pid: number, cpus: string): string | null {
  const result = spawnSync("taskset", ["--all-tasks", "--cpu-list", "--pid", cpus, String(pid)], { encoding: "utf8" });
  if (result.error) return `taskset could not run: ${result.error.message}`;
  if (result.status !== 0) return `taskset failed for pid ${pid}: ${result.stderr.trim()}`;
  return null;
}

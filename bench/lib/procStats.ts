// Per-process figures from Linux's /proc: CPU seconds (whole process and its main thread), RSS, and
// bytes moved through read/write system calls (sockets included, so a node's network traffic).
import { statCpuSeconds } from "../../packages/flood/src/targetProbe.ts";

export interface ProcSample {
  cpuSeconds: number;
  /** The main thread alone (its task id is the pid): the thread that runs the clock and libp2p. */
  mainThreadCpuSeconds: number;
  rssMiB: number;
  /** Bytes read and written by system calls (rchar, wchar): sockets, pipes and files. */
  readBytes: number;
  writtenBytes: number;
}

async function readText(path: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(path, "utf8");
}

/** Null when the process is gone (or /proc is not there). */
export async function procSample(pid: number): Promise<ProcSample | null> {
  try {
    const [stat, mainStat, status, io] = await Promise.all([
      readText(`/proc/${pid}/stat`),
      readText(`/proc/${pid}/task/${pid}/stat`),
      readText(`/proc/${pid}/status`),
      readText(`/proc/${pid}/io`),
    ]);
    return {
      cpuSeconds: statCpuSeconds(stat),
      mainThreadCpuSeconds: statCpuSeconds(mainStat),
      rssMiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
      readBytes: Number(/rchar:\s+(\d+)/.exec(io)?.[1] ?? 0),
      writtenBytes: Number(/wchar:\s+(\d+)/.exec(io)?.[1] ?? 0),
    };
  } catch {
    return null;
  }
}

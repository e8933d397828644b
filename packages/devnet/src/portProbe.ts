// Before a devnet starts: is each port it needs free, and if not, who holds it? A port held by a
// node of another devnet would otherwise let the status table read that devnet's nodes. On Linux
// the holder is found through /proc (listening socket inode in /proc/net/tcp{,6}, then the process
// whose fd links to that socket); elsewhere, or for another user's process, just the port is named.
import { readdir, readFile, readlink } from "node:fs/promises";
import { createServer } from "node:net";
import { basename } from "node:path";
import { type AssignedPort, describePort } from "./ports.ts";

/** TCP state LISTEN in /proc/net/tcp. */
const TCP_LISTEN = "0A";
/** A holder's command line is cut to this many characters in the message. */
const MAX_COMMAND_CHARS = 240;

/** Whether `port` can be bound on `host` right now (the probe listener is closed at once). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface ProcTcpSocket {
  port: number;
  inode: number;
  listening: boolean;
}

/** Parses /proc/net/tcp or /proc/net/tcp6 (header line first; ports and states in hex). */
export function parseProcNetTcp(text: string): ProcTcpSocket[] {
  const out: ProcTcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const state = cols[3];
    const inode = cols[9];
    if (local === undefined || state === undefined || inode === undefined) continue;
    const portHex = local.split(":")[1];
    if (portHex === undefined) continue;
    out.push({ port: Number.parseInt(portHex, 16), inode: Number(inode), listening: state === TCP_LISTEN });
  }
  return out;
}

export interface PortHolder {
  pid: number;
  command: string;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

/** Listening socket inode -> port, from /proc/net/tcp and tcp6 (empty where /proc is missing). */
async function listeningInodes(ports: ReadonlySet<number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readText(file);
    if (text === null) continue;
    for (const s of parseProcNetTcp(text)) {
      if (s.listening && ports.has(s.port) && s.inode !== 0) out.set(`socket:[${s.inode}]`, s.port);
    }
  }
  return out;
}

/**
 * The processes listening on `ports`, by port, in one pass over /proc. A port missing from the
 * answer could not be told (no /proc, or a process of another user whose fds are not readable).
 */
export async function findPortHolders(ports: readonly number[]): Promise<Map<number, PortHolder>> {
  const holders = new Map<number, PortHolder>();
  const inodes = await listeningInodes(new Set(ports));
  if (inodes.size === 0) return holders;
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  } catch {
    return holders;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // Gone, or not ours to read.
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = await readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const port = inodes.get(link);
      if (port === undefined || holders.has(port)) continue;
      const cmdline = (await readText(`/proc/${pid}/cmdline`)) ?? "";
      // The interpreter's full path says little; its name and the arguments say which node it is.
      const [exe = "", ...args] = cmdline.split("\0").filter(Boolean);
      const command = [basename(exe), ...args].join(" ");
      holders.set(port, {
        pid: Number(pid),
        command: command.length > MAX_COMMAND_CHARS ? `${command.slice(0, MAX_COMMAND_CHARS)}...` : command,
      });
    }
    if (holders.size === inodes.size) break;
  }
  return holders;
}

export interface PortConflict {
  port: AssignedPort;
  holder: PortHolder | null;
}

/** The assigned ports that cannot be bound on `host`, each with its holder when it can be found. */
export async function findPortConflicts(host: string, ports: readonly AssignedPort[]): Promise<PortConflict[]> {
  const busy = (await Promise.all(ports.map(async (p) => ((await isPortFree(host, p.port)) ? null : p)))).filter(
    (p): p is AssignedPort => p !== null,
  );
  if (busy.length === 0) return [];
  const holders = await findPortHolders(busy.map((p) => p.port));
  return busy.map((port) => ({ port, holder: holders.get(port.port) ?? null }));
}

/**
 * One line per holder: a whole devnet in the way reads as one line per process, each naming the
 * ports it holds. Ports whose holder could not be told get a line each.
 */
export function describeConflicts(conflicts: readonly PortConflict[]): string[] {
  const byPid = new Map<number, { holder: PortHolder; ports: AssignedPort[] }>();
  const lines: string[] = [];
  for (const c of conflicts) {
    if (c.holder === null) {
      lines.push(`${describePort(c.port)}: in use by a process that could not be identified`);
      continue;
    }
    const group = byPid.get(c.holder.pid) ?? { holder: c.holder, ports: [] };
    group.ports.push(c.port);
    byPid.set(c.holder.pid, group);
  }
  for (const { holder, ports } of byPid.values()) {
    lines.unshift(
      `${ports.map(describePort).join(", ")}: held by pid ${holder.pid} (${holder.command || "unknown command"})`,
    );
  }
  return lines;
}

// Runs a netnsPlan: refuses clearly without root or iproute2, owns the bridge through a lock file,
// cleans a killed run's leftovers first, and tears everything down on stop, on error and on exit.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  NETNS_BRIDGE,
  type NetnsInventory,
  type NetnsPlan,
  parseForwardRules,
  parseLinks,
  parseNamespaces,
  planNetns,
  staleCleanup,
} from "./netnsPlan.ts";

/** Names the process that owns the bridge, so a second run refuses instead of tearing it down. */
export const NETNS_LOCK_FILE = "/run/metronome-netns.pid";

interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function run(argv: string[]): RunResult {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { encoding: "utf8" });
  if (r.error) return { ok: false, stdout: "", stderr: r.error.message };
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Why --netns cannot run here, or null when it can. */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== "linux") return "--netns needs Linux network namespaces";
  if (process.getuid?.() !== 0) {
    return "--netns creates network namespaces, a bridge and veth pairs: run it as root (e.g. sudo npm run devnet -- --netns)";
  }
  if (!run(["ip", "-V"]).ok) return "--netns needs the `ip` command from iproute2 (apt-get install iproute2)";
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function inventory(): NetnsInventory {
  const ipt = run(["iptables", "-S", "FORWARD"]);
  return {
    namespacesOutput: run(["ip", "netns", "list"]).stdout,
    linksOutput: run(["ip", "-o", "link", "show"]).stdout,
    forwardRulesOutput: ipt.ok ? ipt.stdout : null,
  };
}

/** Every namespace, link and iptables rule of ours that exists now (empty when clean). */
export function leftovers(inv: NetnsInventory = inventory()): string[] {
  return [
    ...parseNamespaces(inv.namespacesOutput).map((n) => `netns ${n}`),
    ...parseLinks(inv.linksOutput).map((l) => `link ${l}`),
    ...parseForwardRules(inv.forwardRulesOutput ?? "").map((r) => `iptables ${r.join(" ")}`),
  ];
}

export class NetnsNetwork {
  readonly plan: NetnsPlan;
  private torndown = false;
  private readonly onExit = () => this.teardown();

  private constructor(plan: NetnsPlan) {
    this.plan = plan;
  }

  /** Cleans stale leftovers, then builds the plan's network. Throws a one-line reason on failure. */
  static create(nodeIds: number[], log: (line: string) => void): NetnsNetwork {
    const reason = netnsUnavailableReason();
    if (reason) throw new Error(reason);
    if (existsSync(NETNS_LOCK_FILE)) {
      const owner = Number(readFileSync(NETNS_LOCK_FILE, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
        throw new Error(`--netns: another devnet (pid ${owner}) owns ${NETNS_BRIDGE}; stop it first`);
      }
    }
    const inv = inventory();
    const stale = staleCleanup(inv);
    if (stale.length > 0) {
      log(`netns: removing leftovers of an earlier run: ${leftovers(inv).join(", ")}`);
      // A devnet killed outright leaves its nodes running inside their namespaces: stop them first.
      for (const ns of parseNamespaces(inv.namespacesOutput)) {
        for (const pid of run(["ip", "netns", "pids", ns]).stdout.split(/\s+/).filter(Boolean).map(Number)) {
          log(`netns: killing pid ${pid} left in ${ns}`);
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
      for (const cmd of stale) run(cmd);
    }
    writeFileSync(NETNS_LOCK_FILE, `${process.pid}\n`);
    const iptables = run(["iptables", "-S", "FORWARD"]).ok;
    const network = new NetnsNetwork(planNetns(nodeIds, { iptables }));
    // Also on a crash or process.exit(): the network never outlives the process that built it.
    process.once("exit", network.onExit);
    for (const cmd of network.plan.setup) {
      const r = run(cmd);
      if (!r.ok) {
        network.teardown();
        throw new Error(`--netns: \`${cmd.join(" ")}\` failed: ${r.stderr || "no output"}`);
      }
    }
    return network;
  }

  /** Wraps a node's argv so it runs inside its namespace. */
  wrap(nodeId: number, file: string, args: string[]): { file: string; args: string[] } {
    const node = this.plan.nodes.find((n) => n.nodeId === nodeId);
    if (!node) throw new Error(`--netns: node ${nodeId} has no namespace`);
    return { file: "ip", args: ["netns", "exec", node.namespace, file, ...args] };
  }

  /** Removes everything the plan created (idempotent); returns what is still there afterwards. */
  teardown(): string[] {
    if (this.torndown) return [];
    this.torndown = true;
    process.removeListener("exit", this.onExit);
    for (const cmd of this.plan.teardown) run(cmd);
    rmSync(NETNS_LOCK_FILE, { force: true });
    return leftovers();
  }
}

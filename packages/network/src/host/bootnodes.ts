// Static bootnodes: dialed at start, and redialed with bounded exponential backoff whenever the
// connection is lost or a dial fails, until stop(). One timer per bootnode, never more.
import type { NetworkCounters } from "../stats.ts";

export type RedialOptions = {
  /** Delay before the first retry; doubles per consecutive failure. */
  initialDelayMs: number;
  /** Backoff ceiling. */
  maxDelayMs: number;
};

export const DEFAULT_REDIAL: RedialOptions = { initialDelayMs: 500, maxDelayMs: 30_000 };

export type BootnodeDialerDeps = {
  /** Dials `addr`; resolves to the remote peer id. */
  dial(addr: string, signal: AbortSignal): Promise<string>;
  isConnected(peer: string): boolean;
  counters: NetworkCounters;
};

type Bootnode = {
  addr: string;
  peer: string | undefined;
  failures: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
};

export class BootnodeDialer {
  private readonly nodes: Bootnode[];
  private readonly deps: BootnodeDialerDeps;
  private readonly options: RedialOptions;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(addrs: readonly string[], deps: BootnodeDialerDeps, options: RedialOptions = DEFAULT_REDIAL) {
    this.nodes = addrs.map((addr) => ({
      addr,
      peer: peerIdOfMultiaddr(addr),
      failures: 0,
      timer: undefined,
      dialing: false,
    }));
    this.deps = deps;
    this.options = options;
  }

  start(): void {
    for (const node of this.nodes) void this.ensureConnected(node);
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const node of this.nodes) {
      clearTimeout(node.timer);
      node.timer = undefined;
    }
  }

  onPeerDisconnected(peer: string): void {
    for (const node of this.nodes) {
      if (node.peer === peer) this.scheduleRedial(node);
    }
  }

  /** Bootnode peer ids known so far (from the multiaddr or learned on first connect). */
  knownPeers(): string[] {
    return this.nodes.flatMap((n) => (n.peer === undefined ? [] : [n.peer]));
  }

  /** Delay used after `failures` consecutive failures (exposed for tests). */
  delayFor(failures: number): number {
    const exponent = Math.min(failures, 30);
    return Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** exponent);
  }

  private async ensureConnected(node: Bootnode): Promise<void> {
    if (this.stopped || node.dialing) return;
    if (node.peer !== undefined && this.deps.isConnected(node.peer)) {
      node.failures = 0;
      return;
    }
    node.dialing = true;
    this.deps.counters.inc("bootnode_dial_attempts");
    try {
      node.peer = await this.deps.dial(node.addr, this.abort.signal);
      node.failures = 0;
    } catch {
      this.deps.counters.inc("bootnode_dial_failures");
      node.failures++;
      node.dialing = false;
      this.scheduleRedial(node);
      return;
    }
    node.dialing = false;
    // The connection may have dropped while the dial promise settled.
    if (node.peer !== undefined && !this.deps.isConnected(node.peer)) this.scheduleRedial(node);
  }

  private scheduleRedial(node: Bootnode): void {
    if (this.stopped || node.timer !== undefined) return;
    const delay = this.delayFor(Math.max(0, node.failures - 1));
    node.timer = setTimeout(() => {
      node.timer = undefined;
      void this.ensureConnected(node);
    }, delay);
    node.timer.unref();
  }
}

export function peerIdOfMultiaddr(addr: string): string | undefined {
  const match = /\/p2p\/([^/]+)$/.exec(addr);
  return match?.[1];
}

// Per-client and overall concurrency of the expensive validator routes (signature verification).
// A request past either bound is refused at once (429 + Retry-After) before its body is read.

/** Requests one client (by remote address) may have in verification at once. */
export const MAX_INFLIGHT_PER_CLIENT = 2;
/** Requests in verification over all clients: each may carry 1024 signatures. */
export const MAX_INFLIGHT_TOTAL = 8;
/** What a refused client is told to wait, in seconds (about the time one full request takes). */
export const RETRY_AFTER_SECONDS = 1;
/** Clients tracked at once: the map holds only clients with a request in flight, so this is a safety net. */
const MAX_TRACKED_CLIENTS = 4096;

export class ClientLimiter {
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  private readonly perClient: number;
  private readonly overall: number;

  constructor(opts: { perClient?: number; overall?: number } = {}) {
    this.perClient = opts.perClient ?? MAX_INFLIGHT_PER_CLIENT;
    this.overall = opts.overall ?? MAX_INFLIGHT_TOTAL;
  }

  /** A release function when the request may go ahead, null when it must be refused. */
  tryAcquire(client: string): (() => void) | null {
    const held = this.inFlight.get(client) ?? 0;
    if (held >= this.perClient || this.total >= this.overall) return null;
    if (held === 0 && this.inFlight.size >= MAX_TRACKED_CLIENTS) return null;
    this.inFlight.set(client, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.inFlight.get(client) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(client);
      else this.inFlight.set(client, left);
    };
  }

  get inFlightTotal(): number {
    return this.total;
  }
}

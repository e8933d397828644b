// Thins a per-message timing down to one observation per interval, so a flood cannot turn a
// histogram into per-message work (metricsBridge.ts uses it for gossip validation timings).

/** Lets one event through per interval; the rest are dropped. */
export class RateSampler {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(intervalMs: number, now: () => number = () => performance.now()) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  take(): boolean {
    const t = this.now();
    if (t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }
}

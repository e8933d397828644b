// A steady send rate: every tick (10 ms) it works out how many messages are owed since the start
// and hands that many to `send`. Sends are spread evenly over the second instead of one burst per
// second, which is what a node sees from many peers. After a stall of the flooder itself the debt
// is paid back at most `maxBurstMs` worth per tick, so a stall never turns into one huge burst.

export interface RateSchedulerOptions {
  /** Messages per second. */
  rate: number;
  /** Called with how many messages to send now; returns how many it really sent. */
  send: (count: number) => number;
  tickMs?: number;
  /** Largest catch-up per tick, in milliseconds of schedule. */
  maxBurstMs?: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

export interface RateSchedulerStats {
  /** Messages the schedule asked for so far. */
  scheduled: number;
  /** Messages `send` reported as sent. */
  sent: number;
  /** Schedule still owed (the flooder fell behind). */
  behind: number;
  elapsedMs: number;
  /** sent / elapsed seconds. */
  achievedRate: number;
  ticks: number;
}

export const DEFAULT_TICK_MS = 10;
const DEFAULT_MAX_BURST_MS = 100;

function defaultTimer(fn: () => void, ms: number): { cancel(): void } {
  const timer = setInterval(fn, ms);
  return { cancel: () => clearInterval(timer) };
}

export class RateScheduler {
  private readonly rate: number;
  private readonly send: (count: number) => number;
  private readonly tickMs: number;
  private readonly maxBurst: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => { cancel(): void };
  private timer: { cancel(): void } | null = null;
  private startedAt = 0;
  private stoppedAt: number | null = null;
  private scheduled = 0;
  private sent = 0;
  private ticks = 0;

  constructor(options: RateSchedulerOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate))
      throw new RangeError(`rate must be > 0: ${options.rate}`);
    this.rate = options.rate;
    this.send = options.send;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.maxBurst = Math.max(1, Math.ceil((this.rate * (options.maxBurstMs ?? DEFAULT_MAX_BURST_MS)) / 1000));
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  start(): void {
    if (this.timer !== null) return;
    this.startedAt = this.now();
    this.stoppedAt = null;
    this.timer = this.setTimer(() => this.tick(), this.tickMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.stoppedAt === null) this.stoppedAt = this.now();
  }

  /** One tick: send what the schedule owes (bounded by the burst cap). Exposed for tests. */
  tick(): void {
    this.ticks++;
    const due = Math.floor(((this.now() - this.startedAt) * this.rate) / 1000);
    const owed = due - this.scheduled;
    if (owed <= 0) return;
    const count = Math.min(owed, this.maxBurst);
    this.scheduled += count;
    this.sent += Math.max(0, Math.min(count, this.send(count)));
  }

  stats(): RateSchedulerStats {
    const end = this.stoppedAt ?? this.now();
    const elapsedMs = Math.max(0, end - this.startedAt);
    const due = Math.floor((elapsedMs * this.rate) / 1000);
    return {
      scheduled: this.scheduled,
      sent: this.sent,
      behind: Math.max(0, due - this.scheduled),
      elapsedMs,
      achievedRate: elapsedMs > 0 ? (this.sent * 1000) / elapsedMs : 0,
      ticks: this.ticks,
    };
  }
}

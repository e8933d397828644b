// Token buckets keyed by peer, one limiter per req/resp protocol. The key map is capped: when full,
// the least recently used peer's bucket is dropped (it simply starts again from a full bucket).

export type BucketConfig = {
  /** Requests a peer may send in a burst. */
  capacity: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
};

type Bucket = { tokens: number; updatedMs: number };

export class TokenBucketLimiter {
  private readonly config: BucketConfig;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(config: BucketConfig, maxKeys = 4096, now: () => number = () => performance.now()) {
    this.config = config;
    this.maxKeys = maxKeys;
    this.now = now;
  }

  /** Takes `cost` tokens for `key` if it has them; false means the request is over the limit. */
  tryTake(key: string, cost = 1): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.config.capacity, updatedMs: now };
    const elapsedSeconds = Math.max(0, now - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(this.config.capacity, bucket.tokens + elapsedSeconds * this.config.refillPerSecond);
    bucket.updatedMs = now;
    // Re-insert so Map order is least-recently-used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.evictOverflow();
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  private evictOverflow(): void {
    while (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done === true) return;
      this.buckets.delete(oldest.value);
    }
  }
}

// The last payloads sent, for the "duplicate" kind: each is echoed at most once, newest first.

/** The last `capacity` items pushed; the oldest is overwritten. */
export class RecentRing<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(capacity: number) {
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.items.length;
    this.count = Math.min(this.count + 1, this.items.length);
  }

  popNewest(): T | undefined {
    if (this.count === 0) return undefined;
    this.next = (this.next - 1 + this.items.length) % this.items.length;
    this.count--;
    const item = this.items[this.next];
    this.items[this.next] = undefined;
    return item;
  }
}

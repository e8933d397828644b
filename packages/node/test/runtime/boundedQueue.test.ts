import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BoundedQueue, type QueueDropReason } from "../../src/runtime/boundedQueue.ts";

function filled(
  policy: "drop_oldest" | "drop_newest" | "lifo",
  capacity: number,
  items: number[],
): BoundedQueue<number> {
  const q = new BoundedQueue<number>({ capacity, policy });
  for (const i of items) q.push(i);
  return q;
}

describe("BoundedQueue", () => {
  it("drop_oldest: FIFO service, evicts the head when full and counts it", () => {
    const dropped: number[] = [];
    const q = new BoundedQueue<number>({ capacity: 3, policy: "drop_oldest", onDrop: (i) => dropped.push(i) });
    for (const i of [1, 2, 3]) assert.equal(q.push(i), true);
    assert.equal(q.isFull, true);
    assert.equal(q.push(4), true);
    assert.equal(q.push(5), true);
    assert.deepEqual(dropped, [1, 2]);
    assert.equal(q.dropped.queue_full, 2);
    assert.equal(q.size, 3);
    assert.deepEqual(q.toArray(), [3, 4, 5]);
    assert.equal(q.peek(), 3);
    assert.equal(q.pop(), 3);
    assert.equal(q.pop(), 4);
    assert.equal(q.pop(), 5);
    assert.equal(q.pop(), undefined);
    assert.equal(q.size, 0);
  });

  it("drop_newest: refuses the incoming item when full and keeps the queue intact", () => {
    const q = filled("drop_newest", 2, [1, 2]);
    assert.equal(q.push(3), false);
    assert.equal(q.dropped.queue_full, 1);
    assert.deepEqual(q.popBatch(10), [1, 2]);
    assert.equal(q.push(9), true);
    assert.deepEqual(q.toArray(), [9]);
  });

  it("lifo: newest first, and when full the OLDEST is evicted", () => {
    const reasons: QueueDropReason[] = [];
    const evicted: number[] = [];
    const q = new BoundedQueue<number>({
      capacity: 3,
      policy: "lifo",
      onDrop: (i, r) => {
        evicted.push(i);
        reasons.push(r);
      },
    });
    for (const i of [1, 2, 3, 4]) assert.equal(q.push(i), true);
    assert.deepEqual(evicted, [1]);
    assert.deepEqual(reasons, ["queue_full"]);
    assert.equal(q.peek(), 4);
    assert.deepEqual(q.toArray(), [4, 3, 2]);
    assert.equal(q.pop(), 4);
    q.push(5);
    assert.deepEqual(q.popBatch(2), [5, 3]);
    assert.equal(q.pop(), 2);
    assert.equal(q.pop(), undefined);
  });

  it("popBatch respects max, handles 0/negative/fractional and an empty queue", () => {
    const q = filled("drop_oldest", 10, [1, 2, 3, 4, 5]);
    assert.deepEqual(q.popBatch(2), [1, 2]);
    assert.deepEqual(q.popBatch(0), []);
    assert.deepEqual(q.popBatch(-3), []);
    assert.deepEqual(q.popBatch(1.9), [3]);
    assert.deepEqual(q.popBatch(100), [4, 5]);
    assert.deepEqual(q.popBatch(100), []);
  });

  it("keeps an undefined item distinct from empty", () => {
    const q = new BoundedQueue<number | undefined>({ capacity: 2, policy: "drop_oldest" });
    q.push(undefined);
    assert.equal(q.size, 1);
    assert.equal(q.pop(), undefined);
    assert.equal(q.size, 0);
    assert.equal(q.popped, 1);
  });

  it("counts pushed/popped/maxSizeSeen, and clear() empties without counting drops", () => {
    const q = filled("drop_oldest", 4, [1, 2, 3, 4, 5, 6]);
    q.pop();
    const s = q.stats();
    assert.deepEqual(s, {
      policy: "drop_oldest",
      size: 3,
      capacity: 4,
      maxSizeSeen: 4,
      pushed: 6,
      popped: 1,
      dropped: { queue_full: 2 },
    });
    s.dropped.queue_full = 99; // a snapshot, not a live view
    assert.equal(q.dropped.queue_full, 2);
    assert.equal(q.clear(), 3);
    assert.equal(q.size, 0);
    assert.equal(q.dropped.queue_full, 2);
    q.push(7);
    assert.deepEqual(q.toArray(), [7]);
  });

  it("rejects a bad capacity or policy", () => {
    assert.throws(() => new BoundedQueue({ capacity: 0, policy: "lifo" }), RangeError);
    assert.throws(() => new BoundedQueue({ capacity: 1.5, policy: "lifo" }), RangeError);
    assert.throws(
      () => new BoundedQueue({ capacity: 1, policy: "random" as unknown as "lifo" }),
      /unknown queue policy/,
    );
  });

  it("stays correct across 100k pushes/pops with wrap-around, for every policy", () => {
    const n = 100_000;
    // FIFO with interleaved pops: the ring wraps many times; every item comes out once, in order.
    const fifo = new BoundedQueue<number>({ capacity: 1000, policy: "drop_oldest" });
    let expected = 0;
    for (let i = 0; i < n; i++) {
      fifo.push(i);
      // The queue holds a contiguous run ending at i; once full, each push evicted its oldest.
      expected = Math.max(expected, i + 1 - fifo.size);
      if (i % 3 !== 0) {
        assert.equal(fifo.pop(), expected);
        expected++;
      }
    }
    assert.equal(fifo.pushed, n);
    assert.ok(fifo.dropped.queue_full > 0); // the run did hit the cap
    assert.equal(fifo.popped + fifo.dropped.queue_full + fifo.size, n);
    const rest = fifo.popBatch(n);
    assert.deepEqual(
      rest,
      Array.from({ length: rest.length }, (_, k) => n - rest.length + k),
    );

    const refusing = new BoundedQueue<number>({ capacity: 1000, policy: "drop_newest" });
    for (let i = 0; i < n; i++) refusing.push(i);
    assert.equal(refusing.dropped.queue_full, n - 1000);
    assert.deepEqual(
      refusing.popBatch(2000),
      Array.from({ length: 1000 }, (_, k) => k),
    );

    const lifo = new BoundedQueue<number>({ capacity: 1000, policy: "lifo" });
    for (let i = 0; i < n; i++) lifo.push(i);
    assert.equal(lifo.dropped.queue_full, n - 1000);
    const newest = lifo.popBatch(2000);
    assert.equal(newest.length, 1000);
    assert.equal(newest[0], n - 1);
    assert.equal(newest[999], n - 1000);
  });
});

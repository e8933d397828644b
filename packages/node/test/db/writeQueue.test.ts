// The database write queue: order, retry with backoff, finality superseding, the bound and its
// back-pressure signal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Logger } from "@metronome/common";
import { retryDelayMs, WriteQueue, type WriteTask } from "../../src/db/writeQueue.ts";

const quiet = new Logger({ level: "error", format: "text", write: () => {} });
const fast = { retryBaseMs: 1, retryMaxMs: 4 };

function task(kind: WriteTask["kind"], label: string, log: string[], opts: { bytes?: number; failures?: number } = {}) {
  let failuresLeft = opts.failures ?? 0;
  return {
    kind,
    label,
    bytes: opts.bytes ?? 10,
    run: async () => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error(`disk says no to ${label}`);
      }
      log.push(label);
    },
  };
}

/** A task that waits until released: holds the head of the queue. */
function gate(log: string[]): { task: WriteTask; release: () => void } {
  let release = () => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    task: {
      kind: "block",
      label: "gate",
      bytes: 1,
      run: async () => {
        await opened;
        log.push("gate");
      },
    },
    release,
  };
}

describe("WriteQueue", () => {
  it("runs writes one at a time in arrival order", async () => {
    const log: string[] = [];
    const q = new WriteQueue(quiet, fast);
    q.pushBlock(task("block", "b1", log));
    q.pushBlock(task("block", "b2", log));
    q.pushFinality(task("finality", "f2", log));
    q.pushBlock(task("block", "b3", log));
    assert.equal(q.size, 4);
    assert.equal(q.bytes, 40);
    await q.idle();
    assert.deepEqual(log, ["b1", "b2", "f2", "b3"]);
    assert.deepEqual(q.stats().written, { block: 3, finality: 1 });
    assert.equal(q.bytes, 0);
  });

  it("retries a failed write with backoff until it lands, holding later writes behind it", async () => {
    const log: string[] = [];
    const q = new WriteQueue(quiet, fast);
    q.pushFinality(task("finality", "f1", log, { failures: 3 }));
    q.pushBlock(task("block", "b1", log));
    await q.idle();
    assert.deepEqual(log, ["f1", "b1"], "the finality landed, and before the later block");
    const s = q.stats();
    assert.deepEqual(s.failures, { block: 0, finality: 3 });
    assert.equal(s.consecutiveFailures, 0);
    assert.equal(s.lastError, null);
  });

  it("reports a write that keeps failing (for health) and stops retrying on close", async () => {
    const log: string[] = [];
    const q = new WriteQueue(quiet, fast);
    q.pushFinality(task("finality", "f1", log, { failures: Number.POSITIVE_INFINITY }));
    const deadline = Date.now() + 5_000;
    while (q.stats().consecutiveFailures < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(q.stats().consecutiveFailures >= 3);
    assert.match(q.stats().lastError ?? "", /disk says no to f1/);
    assert.equal(await q.close(), 0);
    assert.deepEqual(log, []);
  });

  it("backoff doubles from the base up to the cap", () => {
    const limits = { retryBaseMs: 50, retryMaxMs: 5_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 40].map((a) => retryDelayMs(a, limits)),
      [50, 100, 200, 400, 3200, 5000, 5000],
    );
  });

  it("a later finality replaces a queued one, never the one running", async () => {
    const log: string[] = [];
    const q = new WriteQueue(quiet, fast);
    const g = gate(log);
    q.pushBlock(g.task);
    q.pushFinality(task("finality", "f1", log));
    q.pushBlock(task("block", "b1", log));
    q.pushFinality(task("finality", "f2", log));
    assert.equal(q.size, 3, "f1 was replaced");
    g.release();
    await q.idle();
    assert.deepEqual(log, ["gate", "b1", "f2"]);
    assert.equal(q.stats().superseded, 1);
  });

  it("a failing finality gives way to a later one queued behind it", async () => {
    const log: string[] = [];
    const q = new WriteQueue(quiet, { retryBaseMs: 20, retryMaxMs: 20 });
    q.pushFinality(task("finality", "f1", log, { failures: Number.POSITIVE_INFINITY }));
    const deadline = Date.now() + 5_000;
    while (q.stats().consecutiveFailures < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    q.pushBlock(task("block", "b1", log));
    q.pushFinality(task("finality", "f2", log));
    await q.idle();
    assert.deepEqual(log, ["b1", "f2"]);
    assert.equal(q.stats().superseded, 1);
  });

  it("is bounded in count and bytes, signals back-pressure at 3/4 and room when it drains", async () => {
    const log: string[] = [];
    const q = new WriteQueue(quiet, { ...fast, maxWrites: 8, maxBytes: 1_000, backpressureFraction: 0.75 });
    let rooms = 0;
    q.onRoom(() => rooms++);
    const g = gate(log);
    q.pushBlock(g.task);
    for (let i = 0; i < 4; i++) q.pushBlock(task("block", `b${i}`, log));
    assert.ok(q.acceptsImports(), "5 of 8: below the mark");
    q.pushBlock(task("block", "b4", log));
    assert.equal(q.acceptsImports(), false, "6 of 8 is the mark");
    assert.equal(q.stats().backpressure, true);
    assert.ok(q.admitsBlock(), "still under the hard bound");
    q.pushBlock(task("block", "b5", log));
    assert.ok(q.admitsBlock(), "7 of 8");
    q.pushBlock(task("block", "b6", log));
    assert.equal(q.admitsBlock(), false, "8 of 8");
    assert.equal(q.stats().refused, 1);
    g.release();
    await q.idle();
    assert.equal(rooms, 1, "room signalled once");
    assert.ok(q.acceptsImports());

    const bytes = new WriteQueue(quiet, { ...fast, maxWrites: 100, maxBytes: 1_000, backpressureFraction: 0.75 });
    const g2 = gate(log);
    bytes.pushBlock(g2.task);
    bytes.pushBlock(task("block", "big", log, { bytes: 800 }));
    assert.equal(bytes.acceptsImports(), false, "801 bytes of 1000 is past the mark");
    assert.equal(bytes.hasRoomFor(200), false);
    assert.ok(bytes.hasRoomFor(199));
    g2.release();
    await bytes.idle();
  });
});

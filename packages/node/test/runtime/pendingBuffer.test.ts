import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_PENDING_ATTESTATIONS } from "@metronome/chain";
import { PendingAttestationBuffer, type ReplayVerdict } from "../../src/runtime/pendingBuffer.ts";

function bufferWith(items: number[], capacity?: number): PendingAttestationBuffer<number> {
  const b = new PendingAttestationBuffer<number>({ kind: "single", capacity });
  for (const i of items) b.add(i, "unknown_block");
  return b;
}

describe("PendingAttestationBuffer", () => {
  it("defaults to 1024 entries (MAX_PENDING_ATTESTATIONS) and the 1025th add evicts the first", () => {
    assert.equal(MAX_PENDING_ATTESTATIONS, 1024, "PROTOCOL.md section 6: 1024 entries per kind");
    const b = new PendingAttestationBuffer<number>({ kind: "aggregated" });
    assert.equal(b.capacity, 1024);
    for (let i = 0; i < 1024; i++) b.add(i, "unknown_block");
    assert.equal(b.size, 1024);
    assert.equal(b.evicted, 0);
    b.add(1024, "future_slot");
    assert.equal(b.size, 1024);
    assert.equal(b.evicted, 1);
    const items = b.toArray();
    assert.equal(items[0], 1);
    assert.equal(items[1023], 1024);
    assert.equal(b.maxSizeSeen, 1024);
    assert.deepEqual(b.buffered, { unknown_block: 1024, future_slot: 1 });
  });

  it("replays in FIFO order and counts outcomes", () => {
    const b = bufferWith([1, 2, 3, 4, 5, 6]);
    const seen: number[] = [];
    const verdicts: Record<number, ReplayVerdict> = {
      1: "accepted",
      2: "rebuffer",
      3: "drop",
      4: "accepted",
      5: "rebuffer",
      6: "accepted",
    };
    const result = b.replay((i) => {
      seen.push(i);
      return verdicts[i] as ReplayVerdict;
    });
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(result, { accepted: 3, buffered: 2, dropped: 1, expired: 0 });
    assert.deepEqual(b.toArray(), [2, 5]);
    assert.equal(b.size, 2);
    // A second replay accumulates into the totals.
    b.replay(() => "accepted");
    assert.equal(b.size, 0);
    assert.deepEqual(b.replayOutcomes, { accepted: 5, buffered: 2, dropped: 1, expired: 0 });
    assert.equal(b.replays, 2);
  });

  it("rebuffered items keep their order, ahead of items added during the replay", () => {
    const b = bufferWith([1, 2, 3, 4]);
    let next = 100;
    b.replay((i) => {
      b.add(next++, "unknown_block"); // e.g. gossip arriving while replay runs
      return i % 2 === 0 ? "rebuffer" : "drop";
    });
    assert.deepEqual(b.toArray(), [2, 4, 100, 101, 102, 103]);
    assert.equal(b.buffered.unknown_block, 8);
    // Items added during a replay are not themselves replayed by it.
    const seen: number[] = [];
    b.replay((i) => {
      seen.push(i);
      return "rebuffer";
    });
    assert.deepEqual(seen, [2, 4, 100, 101, 102, 103]);
    assert.deepEqual(b.toArray(), [2, 4, 100, 101, 102, 103]);
  });

  it("evicts the oldest when rebuffered plus newly added entries overflow the cap", () => {
    const b = bufferWith([1, 2, 3], 4);
    let next = 10;
    b.replay(() => {
      b.add(next++, "future_slot");
      return "rebuffer";
    });
    // Order by arrival is 1,2,3,10,11,12; the cap keeps the newest four.
    assert.deepEqual(b.toArray(), [3, 10, 11, 12]);
    assert.equal(b.evicted, 2);
    assert.equal(b.size, 4);
  });

  it("a throwing or nonsense tryImport drops the item instead of crashing", () => {
    const b = bufferWith([1, 2, 3]);
    const result = b.replay((i) => {
      if (i === 1) throw new Error("boom");
      if (i === 2) return "maybe" as unknown as ReplayVerdict;
      return "rebuffer";
    });
    assert.deepEqual(result, { accepted: 0, buffered: 1, dropped: 2, expired: 0 });
    assert.equal(b.replayErrors, 1);
    assert.deepEqual(b.toArray(), [3]);
  });

  it("a replay triggered from inside a replay runs as one extra pass, not recursively", () => {
    const b = bufferWith([1, 2]);
    let depth = 0;
    let maxDepth = 0;
    const seen: number[] = [];
    let importedBlock = false;
    const tryImport = (i: number): ReplayVerdict => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      seen.push(i);
      if (i === 1 && !importedBlock) {
        importedBlock = true; // accepting 1 imported a block, whose import replays the buffer
        b.replay(tryImport);
      }
      depth--;
      return i === 1 ? "accepted" : "rebuffer";
    };
    const result = b.replay(tryImport);
    assert.equal(maxDepth, 1);
    assert.deepEqual(seen, [1, 2, 2]);
    assert.deepEqual(result, { accepted: 1, buffered: 2, dropped: 0, expired: 0 });
    assert.equal(b.reentrantReplays, 1);
    assert.deepEqual(b.toArray(), [2]);
  });

  it("with an age limit, drops entries older than N slots as expired without trying them", () => {
    let slot = 10;
    const b = new PendingAttestationBuffer<string>({ kind: "single", maxAgeSlots: 2, currentSlot: () => slot });
    b.add("old", "unknown_block");
    slot = 12;
    b.add("fresh", "unknown_block");
    slot = 13; // "old" is 3 slots old, "fresh" 1
    const tried: string[] = [];
    const result = b.replay((i) => {
      tried.push(i);
      return "rebuffer";
    });
    assert.deepEqual(tried, ["fresh"]);
    assert.deepEqual(result, { accepted: 0, buffered: 1, dropped: 0, expired: 1 });
    assert.deepEqual(b.toArray(), ["fresh"]);
    assert.throws(() => new PendingAttestationBuffer({ kind: "single", maxAgeSlots: 2 }), /currentSlot/);
  });

  it("stats() is a snapshot with every counter", () => {
    const b = bufferWith([1, 2, 3], 2);
    b.replay((i) => (i === 2 ? "accepted" : "rebuffer"));
    assert.deepEqual(b.stats(), {
      kind: "single",
      size: 1,
      capacity: 2,
      maxSizeSeen: 2,
      evicted: 1,
      buffered: { unknown_block: 3, future_slot: 0 },
      replayOutcomes: { accepted: 1, buffered: 1, dropped: 0, expired: 0 },
      replays: 1,
      replayErrors: 0,
      reentrantReplays: 0,
    });
    assert.equal(b.clear(), 1);
    assert.equal(b.size, 0);
    assert.equal(b.evicted, 1);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  classifyAttestationRejection,
  isTooFarInFuture,
  referencesKnownBlocks,
  validateAttestationData,
} from "../../src/forkChoice/attestationValidation.ts";
import { BlockTreeSnapshot, isCheckpointAncestor } from "../../src/forkChoice/blockTree.ts";
import { type AttestationData, ChainError, type Checkpoint, type RejectionCode } from "../../src/index.ts";

function root(n: number): Uint8Array {
  const r = new Uint8Array(32);
  r[0] = n;
  return r;
}

// G(0) ─ b1(1) ─ b2(2) ─ b3(3)
//            └── f2(2) ─ f3(3)
const G = root(1);
const b1 = root(2);
const b2 = root(3);
const b3 = root(4);
const f2 = root(5);
const f3 = root(6);
const unknown = root(0x77);
const view = new BlockTreeSnapshot([
  { root: G, slot: 0, parentRoot: new Uint8Array(32) },
  { root: b1, slot: 1, parentRoot: G },
  { root: b2, slot: 2, parentRoot: b1 },
  { root: b3, slot: 3, parentRoot: b2 },
  { root: f2, slot: 2, parentRoot: b1 },
  { root: f3, slot: 3, parentRoot: f2 },
]);

const cp = (r: Uint8Array, slot: number): Checkpoint => ({ root: r, slot });
const NOW = 3 * 5 + 2; // interval 2 of slot 3

function data(slot: number, source: Checkpoint, target: Checkpoint, head: Checkpoint): AttestationData {
  return { slot, source, target, head };
}

function rejects(d: AttestationData, code: RejectionCode, interval = NOW): void {
  assert.throws(
    () => validateAttestationData(view, d, interval),
    (e: unknown) => e instanceof ChainError && e.code === code,
    `expected ${code}`,
  );
}

describe("validateAttestationData, one rule at a time in protocol order", () => {
  it("accepts a consistent vote", () => {
    validateAttestationData(view, data(3, cp(G, 0), cp(b2, 2), cp(b3, 3)), NOW);
    validateAttestationData(view, data(3, cp(b1, 1), cp(f2, 2), cp(f3, 3)), NOW);
  });

  it("UNKNOWN_SOURCE_BLOCK before anything else", () => {
    rejects(data(99, cp(unknown, 5), cp(unknown, 1), cp(unknown, 0)), "UNKNOWN_SOURCE_BLOCK");
  });

  it("UNKNOWN_TARGET_BLOCK", () => {
    rejects(data(3, cp(G, 0), cp(unknown, 2), cp(unknown, 3)), "UNKNOWN_TARGET_BLOCK");
  });

  it("UNKNOWN_HEAD_BLOCK before the slot-order checks", () => {
    rejects(data(3, cp(b3, 3), cp(b1, 1), cp(unknown, 0)), "UNKNOWN_HEAD_BLOCK");
  });

  it("SOURCE_AFTER_TARGET before slot mismatches", () => {
    rejects(data(3, cp(b3, 3), cp(b1, 2), cp(b2, 2)), "SOURCE_AFTER_TARGET");
  });

  it("HEAD_OLDER_THAN_TARGET before slot mismatches", () => {
    rejects(data(3, cp(G, 1), cp(b2, 2), cp(b1, 1)), "HEAD_OLDER_THAN_TARGET");
  });

  it("SOURCE_SLOT_MISMATCH", () => {
    rejects(data(3, cp(G, 1), cp(b1, 2), cp(b3, 3)), "SOURCE_SLOT_MISMATCH");
  });

  it("TARGET_SLOT_MISMATCH", () => {
    rejects(data(3, cp(G, 0), cp(b1, 2), cp(b2, 3)), "TARGET_SLOT_MISMATCH");
  });

  it("HEAD_SLOT_MISMATCH before ancestry", () => {
    rejects(data(3, cp(f2, 2), cp(b2, 2), cp(b2, 3)), "HEAD_SLOT_MISMATCH");
  });

  it("SOURCE_NOT_ANCESTOR_OF_TARGET", () => {
    rejects(data(3, cp(f2, 2), cp(b3, 3), cp(f3, 3)), "SOURCE_NOT_ANCESTOR_OF_TARGET");
  });

  it("TARGET_NOT_ANCESTOR_OF_HEAD before the slot checks", () => {
    rejects(data(1, cp(G, 0), cp(b2, 2), cp(f3, 3)), "TARGET_NOT_ANCESTOR_OF_HEAD");
  });

  it("ATTESTATION_SLOT_BEFORE_HEAD", () => {
    rejects(data(2, cp(G, 0), cp(b1, 1), cp(b3, 3)), "ATTESTATION_SLOT_BEFORE_HEAD");
  });

  it("FUTURE_SLOT admits exactly one interval of early arrival", () => {
    const d = data(10, cp(G, 0), cp(b1, 1), cp(b3, 3));
    validateAttestationData(view, d, 49); // slot 10 starts at interval 50
    validateAttestationData(view, d, 50);
    rejects(d, "FUTURE_SLOT", 48);
    rejects(d, "FUTURE_SLOT", NOW);
  });

  it("an absurd slot is a FUTURE_SLOT rejection, not a crash", () => {
    rejects(data(Number.POSITIVE_INFINITY, cp(G, 0), cp(b1, 1), cp(b3, 3)), "FUTURE_SLOT");
    assert.equal(isTooFarInFuture(data(Number.POSITIVE_INFINITY, cp(G, 0), cp(G, 0), cp(G, 0)), 1e12), true);
  });
});

describe("isTooFarInFuture / classifyAttestationRejection", () => {
  const catchErr = (d: AttestationData, interval = NOW): unknown => {
    try {
      validateAttestationData(view, d, interval);
    } catch (e) {
      return e;
    }
    assert.fail("expected a rejection");
  };

  it("isTooFarInFuture matches the FUTURE_SLOT rule", () => {
    const d = data(4, cp(G, 0), cp(G, 0), cp(G, 0));
    assert.equal(isTooFarInFuture(d, 18), true);
    assert.equal(isTooFarInFuture(d, 19), false);
  });

  it("unknown blocks are retryable and name the root to fetch", () => {
    const c = classifyAttestationRejection(
      catchErr(data(3, cp(G, 0), cp(b1, 1), cp(unknown, 3))),
      data(3, cp(G, 0), cp(b1, 1), cp(unknown, 3)),
      NOW,
    );
    assert.equal(c.kind, "retry");
    assert.deepEqual(c.kind === "retry" ? c.unknownRoot : null, unknown);
  });

  it("one slot early is retryable, two slots early is final", () => {
    const early1 = data(4, cp(G, 0), cp(b1, 1), cp(b3, 3));
    assert.deepEqual(classifyAttestationRejection(catchErr(early1, 15), early1, 15), {
      kind: "retry",
      unknownRoot: null,
    });
    const early2 = data(5, cp(G, 0), cp(b1, 1), cp(b3, 3));
    assert.deepEqual(classifyAttestationRejection(catchErr(early2, 15), early2, 15), { kind: "drop" });
  });

  it("structural failures and non-chain errors are final", () => {
    const bad = data(3, cp(b3, 3), cp(b1, 1), cp(b3, 3));
    assert.deepEqual(classifyAttestationRejection(catchErr(bad), bad, NOW), { kind: "drop" });
    assert.deepEqual(classifyAttestationRejection(new Error("boom"), bad, NOW), { kind: "drop" });
  });

  it("checkpoint ancestry walks parent links only", () => {
    assert.equal(isCheckpointAncestor(view, cp(b1, 1), cp(f3, 3)), true);
    assert.equal(isCheckpointAncestor(view, cp(b2, 2), cp(f3, 3)), false);
    assert.equal(isCheckpointAncestor(view, cp(b3, 3), cp(b3, 3)), true);
    assert.equal(isCheckpointAncestor(view, cp(b3, 3), cp(b2, 2)), false);
    assert.equal(isCheckpointAncestor(view, cp(G, 0), cp(unknown, 9)), false);
  });
});

describe("referencesKnownBlocks", () => {
  it("is true only when source, target and head are all known, agreeing with the unknown-block rules", () => {
    const known = data(3, cp(G, 0), cp(b2, 2), cp(b3, 3));
    assert.equal(referencesKnownBlocks(view, known), true);
    for (const d of [
      data(3, cp(unknown, 0), cp(b2, 2), cp(b3, 3)),
      data(3, cp(G, 0), cp(unknown, 2), cp(b3, 3)),
      data(3, cp(G, 0), cp(b2, 2), cp(unknown, 3)),
    ]) {
      assert.equal(referencesKnownBlocks(view, d), false);
      const verdict = classifyAttestationRejection(catchRejection(d), d, NOW);
      assert.equal(verdict.kind, "retry", "validation would buffer it too");
    }
  });
});

function catchRejection(d: AttestationData): unknown {
  try {
    validateAttestationData(view, d, NOW);
  } catch (err) {
    return err;
  }
  return undefined;
}

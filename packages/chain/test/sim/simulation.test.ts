import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { SecretKey } from "../../src/crypto/bls.ts";
import {
  allAgree,
  judgeSimulation,
  type NodeView,
  parseOfflineWindow,
  runSimulation,
  SimNode,
  type SimResult,
  type SlotRecord,
} from "../../src/sim/index.ts";
import { toHex } from "../../src/ssz/codec.ts";
import type { Checkpoint } from "../../src/ssz/types.ts";
import { signAttestation } from "../../src/validator/attest.ts";
import { makeGenesis, newStore } from "../forkChoice/helpers.ts";

const hex = (c: Checkpoint) => `${c.slot}:${toHex(c.root)}`;

function views(result: SimResult, slot: number): NodeView[] {
  const rec = result.slots[slot];
  assert.ok(rec, `no record for slot ${slot}`);
  assert.equal(rec.slot, slot);
  return rec.nodes;
}

function assertHealthy(result: SimResult): void {
  assert.equal(result.proposalFailures, 0, "an online proposer failed");
  assert.equal(result.busDropped, 0);
  result.nodeStats.forEach((s, i) => {
    assert.deepEqual(s.rejected, {}, `node ${i} rejected messages`);
  });
}

/** Every node holds the same justified and finalized checkpoints at the end of every slot. */
function assertAgreementEverySlot(result: SimResult): void {
  for (const rec of result.slots) {
    assert.ok(
      allAgree(rec.nodes, (v) => v.finalized),
      `slot ${rec.slot}: finalized differs ${rec.nodes.map((v) => hex(v.finalized))}`,
    );
    assert.ok(
      allAgree(rec.nodes, (v) => v.justified),
      `slot ${rec.slot}: justified differs`,
    );
    assert.ok(
      allAgree(rec.nodes, (v) => v.head),
      `slot ${rec.slot}: head differs`,
    );
  }
}

/** Finality never goes back, justified is never behind finalized, and finalized is on the head's chain. */
function assertMonotoneFinality(result: SimResult): void {
  let prev = 0;
  for (const rec of result.slots) {
    const v = rec.nodes[0] as NodeView;
    assert.ok(v.finalized.slot >= prev, `slot ${rec.slot}: finalized went back`);
    assert.ok(v.justified.slot >= v.finalized.slot, `slot ${rec.slot}: justified behind finalized`);
    prev = v.finalized.slot;
  }
  for (const node of result.nodes) {
    assert.ok(node.store.isAncestor(node.store.latestFinalized.root, node.store.head.root));
    assert.ok(node.store.isAncestor(node.store.latestJustified.root, node.store.head.root));
  }
}

describe("simulation: 16 validators, 4 nodes, 30 slots, all online", () => {
  const result = runSimulation({ nodes: 4, validators: 16, slots: 30, seed: 7 });

  it("runs every duty without a rejection or a failed proposal", () => {
    assertHealthy(result);
    assert.equal(result.slots.length, 31); // genesis slot + 30
    for (const rec of result.slots) {
      assert.equal(rec.attestationsPublished, 16, `slot ${rec.slot}`);
      // Everyone votes for the same head, so the aggregator folds them into one aggregate.
      assert.equal(rec.aggregatesPublished, 1, `slot ${rec.slot}`);
    }
    for (const stats of result.nodeStats) {
      assert.equal(stats.attestationsAccepted, 16 * 31);
      assert.equal(stats.aggregatesAccepted, 31);
    }
    // Each node imports every block exactly once (its own included).
    for (const stats of result.nodeStats) assert.equal(stats.blocksImported, 30);
  });

  it("the head advances to the new block every slot on every node", () => {
    for (let slot = 1; slot <= 30; slot++) {
      const rec = result.slots[slot] as SlotRecord;
      assert.ok(rec.block, `slot ${slot} has no block`);
      assert.equal(rec.block.slot, slot);
      for (const v of views(result, slot)) assert.equal(hex(v.head), hex(rec.block));
      // From slot 2 on, each block carries the previous slot's aggregate.
      if (slot >= 2) assert.ok(rec.blockAttestations >= 1, `block ${slot} carries no attestation`);
    }
  });

  it("all nodes agree on head, justified and finalized at every slot", () => {
    assertAgreementEverySlot(result);
    assertMonotoneFinality(result);
  });

  it("finality follows the head closely (observed: justified = slot-2, finalized = slot-3)", () => {
    for (let slot = 6; slot <= 30; slot++) {
      const v = views(result, slot)[0] as NodeView;
      assert.ok(v.justified.slot >= slot - 4, `slot ${slot}: justified ${v.justified.slot}`);
      assert.ok(v.finalized.slot >= slot - 5, `slot ${slot}: finalized ${v.finalized.slot}`);
    }
    const end = views(result, 30)[0] as NodeView;
    assert.ok(end.finalized.slot >= 20, `finalized only ${end.finalized.slot}`);
    // The finalized checkpoint is the canonical block of its slot.
    assert.equal(hex(end.finalized), hex((result.slots[end.finalized.slot] as SlotRecord).block as Checkpoint));
    const verdict = judgeSimulation(result);
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.finalizedDisagreementSlots, []);
  });

  it("finality lets every store prune what is below the finalized block", () => {
    for (const node of result.nodes) {
      const finalized = node.store.latestFinalized.slot;
      // Genesis and early blocks are gone; only the finalized block and its descendants remain.
      assert.equal(node.store.blockCount, 30 - finalized + 1);
      assert.equal(node.store.hasBlock((result.slots[1] as SlotRecord).block?.root as Uint8Array), false);
    }
  });
});

describe("simulation: 6 of 16 validators offline in slots 10..20", () => {
  const result = runSimulation({
    nodes: 4,
    validators: 16,
    slots: 30,
    seed: 3,
    offline: [parseOfflineWindow("0-5@10-20")],
  });
  const at = (slot: number) => views(result, slot)[0] as NodeView;

  it("keeps producing blocks except in the offline proposers' slots", () => {
    assertHealthy(result);
    // Proposer of slot s is s % 16, so validators 0..5 own slots 16..21; 21 is after the outage.
    const skipped = result.slots.filter((r) => r.slot > 0 && r.block === null).map((r) => r.slot);
    assert.deepEqual(skipped, [16, 17, 18, 19, 20]);
    let headSlot = 0;
    for (let slot = 1; slot <= 30; slot++) {
      const rec = result.slots[slot] as SlotRecord;
      if (rec.block !== null) headSlot = slot;
      for (const v of rec.nodes) assert.equal(v.head.slot, headSlot, `slot ${slot}: head ${v.head.slot}`);
      assert.equal(rec.attestationsPublished, slot >= 10 && slot <= 20 ? 10 : 16, `slot ${slot}`);
    }
  });

  it("finalization stops during the outage at what was justified before it", () => {
    const justifiedBefore = at(9).justified.slot;
    const finalizedAtStart = at(10).finalized.slot;
    for (let slot = 10; slot <= 20; slot++) {
      const v = at(slot);
      assert.ok(
        v.finalized.slot <= justifiedBefore,
        `slot ${slot}: finalized ${v.finalized.slot} > ${justifiedBefore}`,
      );
      assert.equal(v.finalized.slot, finalizedAtStart, `slot ${slot}: finalized moved during the outage`);
      // 10 of 16 votes are below 2/3: nothing voted on during the outage can be justified.
      assert.ok(v.justified.slot <= 9, `slot ${slot}: justified ${v.justified.slot} during the outage`);
    }
    // The block at slot 21 comes too early to carry enough post-outage votes.
    assert.equal(at(21).finalized.slot, finalizedAtStart);
  });

  it("finality resumes after the validators return, and all nodes agree throughout", () => {
    assertAgreementEverySlot(result);
    assertMonotoneFinality(result);
    const end = at(30);
    // Observed: finalized 27 at slot 30; anything >= 23 proves a post-outage block was finalized.
    assert.ok(end.finalized.slot >= 23, `finalized only ${end.finalized.slot}`);
    assert.ok(end.justified.slot > 20);
    assert.equal(judgeSimulation(result).ok, true);
  });
});

describe("simulation: determinism and verification paths", () => {
  const small = { nodes: 3, validators: 6, slots: 8 } as const;
  const fingerprint = (r: SimResult) =>
    r.slots.map((s) => s.nodes.map((v) => `${hex(v.head)}|${hex(v.justified)}|${hex(v.finalized)}`).join(";"));

  it("the same seed reproduces the same run; batch and single verification agree", () => {
    const a = runSimulation({ ...small, seed: 11 });
    const b = runSimulation({ ...small, seed: 11 });
    const single = runSimulation({ ...small, seed: 11, verifyMode: "single" });
    assert.deepEqual(fingerprint(a), fingerprint(b));
    assert.deepEqual(fingerprint(a), fingerprint(single));
    assert.deepEqual(
      a.slots.map((s) => s.aggregatorNode),
      b.slots.map((s) => s.aggregatorNode),
    );
    assert.ok((a.slots[8]?.nodes[0]?.finalized.slot ?? 0) >= 3);
  });

  it("a batch with one forged signature rejects only the forgery", () => {
    const g = makeGenesis(4);
    const node = new SimNode(0, newStore(g), [0, 1, 2, 3], "batch");
    const data = node.store.produceAttestationData(0);
    const atts = [0, 1, 2, 3].map((i) => signAttestation(g.keys[i] as SecretKey, i, data, g.domains));
    const forged = { ...atts[2]!, signature: atts[1]!.signature };
    node.receiveBatch(
      [atts[0]!, atts[1]!, forged, atts[3]!].map((attestation) => ({ kind: "attestation", attestation })),
    );
    assert.deepEqual(node.stats.rejected, { INVALID_SIGNATURE: 1 });
    assert.equal(node.stats.attestationsAccepted, 3);
    assert.equal(node.store.getNewVote(2), undefined);
    assert.ok(node.store.getNewVote(3));
    assert.deepEqual(
      node.collectedFor(0).map((a) => a.validatorIndex),
      [0, 1, 3],
    );
  });

  it("judgeSimulation flags nodes that disagree on the finalized root", () => {
    const base = runSimulation({ nodes: 2, validators: 4, slots: 5, seed: 1 });
    assert.equal(judgeSimulation(base).ok, true);
    const last = base.slots[base.slots.length - 1] as SlotRecord;
    const other = { root: new Uint8Array(32).fill(9), slot: last.nodes[0]!.finalized.slot };
    const tampered: SimResult = {
      ...base,
      slots: [
        ...base.slots.slice(0, -1),
        { ...last, nodes: [last.nodes[0]!, { ...last.nodes[1]!, finalized: other }] },
      ],
    };
    const verdict = judgeSimulation(tampered);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.finalizedAgree, false);
    assert.deepEqual(verdict.finalizedDisagreementSlots, [last.slot]);
  });

  it("parses offline windows and refuses bad ones", () => {
    assert.deepEqual(parseOfflineWindow("0-4@10-20"), { validators: { from: 0, to: 4 }, slots: { from: 10, to: 20 } });
    assert.deepEqual(parseOfflineWindow("3@7"), { validators: { from: 3, to: 3 }, slots: { from: 7, to: 7 } });
    for (const bad of ["", "0-4", "4-0@1-2", "a@1", "0-4@10-20@3", "-1@2"]) {
      assert.throws(() => parseOfflineWindow(bad), RangeError, bad);
    }
    assert.throws(() => runSimulation({ nodes: 0, validators: 4, slots: 2 }), RangeError);
    assert.throws(
      () => runSimulation({ nodes: 1, validators: 4, slots: 2, offline: [parseOfflineWindow("2-9@1-2")] }),
      RangeError,
    );
  });
});

describe("simulation CLI", () => {
  const cli = fileURLToPath(new URL("../../src/sim/cli.ts", import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

  it("prints one line per slot and a verdict, exit 0 when the nodes agree", () => {
    const r = run("--validators", "4", "--nodes", "2", "--slots", "5", "--offline", "3@2-3");
    assert.equal(r.status, 0, r.stderr);
    const slotLines = r.stdout.split("\n").filter((l) => l.startsWith("slot "));
    assert.equal(slotLines.length, 6);
    assert.match(slotLines[3] as string, /^slot {3}3 skipped/);
    assert.match(r.stdout, /OK: all 2 nodes agree on finalized/);
  });

  it("exits 2 on bad arguments", () => {
    for (const args of [["--slots", "x"], ["--offline", "9@1-2", "--validators", "4"], ["--bogus"]]) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    }
  });
});

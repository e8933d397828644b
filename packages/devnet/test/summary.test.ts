import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeHealth } from "../src/health.ts";
import { rootsVerdict, summarize } from "../src/summary.ts";

function health(node: number, finalizedSlot: number): NodeHealth {
  return {
    node_id: node,
    head_slot: finalizedSlot + 3,
    head_root: "0xhead",
    justified_slot: finalizedSlot + 1,
    justified_root: "0xjust",
    finalized_slot: finalizedSlot,
    finalized_root: `0xfin${finalizedSlot}`,
    peers: 2,
    intervals_missed: 0,
  } as NodeHealth;
}

describe("devnet summary", () => {
  it("agrees when every node serves the same root at the lowest finalized slot", async () => {
    const s = await summarize([health(0, 4), health(1, 5)], [0, 1], async () => "0xaa");
    assert.equal(s.ok, true);
    assert.equal(rootsVerdict(s), "agree");
  });

  it("a node that does not answer for its block makes agreement unproven, not a disagreement", async () => {
    const s = await summarize([health(0, 4), health(1, 4), health(2, 4)], [0, 1, 2], async (i) =>
      i === 1 ? null : "0xaa",
    );
    assert.equal(s.finalized_agree, false);
    assert.deepEqual(s.finalized_unanswered, [1]);
    assert.equal(rootsVerdict(s), "UNPROVEN (1 node(s) did not answer)");
    assert.ok(!s.notes.some((n) => n.startsWith("nodes disagree")), s.notes.join("; "));
  });

  it("two different roots are a disagreement, named per node", async () => {
    const s = await summarize([health(0, 4), health(1, 4)], [0, 1], async (i) => (i === 0 ? "0xaa" : "0xbb"));
    assert.equal(s.finalized_agree, false);
    assert.equal(rootsVerdict(s), "DISAGREE");
    assert.ok(
      s.notes.some((n) => n.includes("node 0=0xaa") && n.includes("node 1=0xbb")),
      s.notes.join("; "),
    );
  });
});

// A node that joins 20 slots late from an empty data dir must sync the chain it missed, become
// SYNCED, follow the head, and then finalize together with the others on the same chain.
// Genesis has 5 nodes x 6 validators; with node 4 offline the other 24/30 (80%) still finalize.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TestDevnet } from "./helpers/devnet.ts";

const EARLY = [0, 1, 2, 3];
const LATE = 4;
const ALL = [...EARLY, LATE];

describe("late joiner: a 5th node starts from scratch after slot 20", () => {
  let net: TestDevnet;
  let finalizedAtJoin = 0;

  before(async () => {
    net = await TestDevnet.create({ name: "late-joiner", nodes: 5, validators: 30, genesisDelaySec: 11 });
    net.startAll(EARLY);
  });

  after(async () => {
    await net?.teardown();
  });

  it("four of five nodes (80% of validators) finalize and pass slot 20", async () => {
    const healths = await net.waitForHealth(
      EARLY,
      (hs) => hs.every((h) => h.head_slot > 20 && h.finalized_slot > 0),
      "head past slot 20 and finality on the 4 early nodes",
      60_000,
    );
    finalizedAtJoin = Math.max(...healths.map((h) => h.finalized_slot));
    net.start(LATE);
  });

  it("the late node reaches SYNCED with its head within 2 slots of the others", async () => {
    await net.waitForHealth([LATE], (hs) => hs.every((h) => h.sync_state === "SYNCED"), "late node SYNCED", 30_000);
    await net.waitForHealth(
      ALL,
      (hs) => {
        const late = hs[hs.length - 1];
        const bestHead = Math.max(...hs.map((h) => h.head_slot));
        return late !== undefined && bestHead - late.head_slot <= 2;
      },
      "late node's head within 2 slots of the best head",
      20_000,
    );
  });

  it("the late node then finalizes new slots together with the others, on the same chain", async () => {
    // Beyond what anyone had finalized once the late node caught up: finality it lives through,
    // not only checkpoints it read from synced blocks.
    const caughtUp = await net.waitForHealth(ALL, () => true, "health", 5_000);
    const target = Math.max(finalizedAtJoin, ...caughtUp.map((h) => h.finalized_slot));
    const healths = await net.waitForHealth(
      ALL,
      (hs) => hs.every((h) => h.finalized_slot > target),
      `finality past slot ${target} on all 5 nodes`,
      30_000,
    );
    const common = Math.min(...healths.map((h) => h.finalized_slot));
    const tips = await Promise.all(ALL.map((id) => net.finalizedRoot(id, common)));
    assert.ok(
      tips.every((r) => r !== null && r === tips[0]),
      `nodes disagree at finalized slot ${common}: ${tips.join(", ")}`,
    );
    // The whole finalized chain, including the part the late node only ever saw through sync.
    for (let slot = 0; slot <= common; slot++) {
      const roots = await Promise.all(ALL.map((id) => net.headerRoot(id, slot)));
      assert.ok(
        roots.every((r) => r === roots[0]),
        `nodes disagree on the finalized block at slot ${slot}: ${roots.join(", ")}`,
      );
    }
    const late = healths[healths.length - 1];
    assert.ok(late !== undefined);
    assert.equal(late.peers, 4, `late node has ${late.peers} peers`);
    assert.equal(late.sync_state, "SYNCED");
    assert.equal(late.status, "healthy", late.reasons.join("; "));
  });
});

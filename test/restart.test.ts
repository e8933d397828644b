// Crash and restart: a SIGKILLed node restarted on the same data dir must resume from its
// database (finalized history intact, not a fresh start from genesis), catch up, and keep
// finalizing with the others. A SIGTERM must stop a node cleanly and promptly.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type NodeHealth, TestDevnet } from "./helpers/devnet.ts";

const NODES = [0, 1, 2, 3];
const VICTIM = 2;
const OTHERS = NODES.filter((id) => id !== VICTIM);

describe("restart: SIGKILL a node, restart it on the same data dir", () => {
  let net: TestDevnet;
  let beforeKill: NodeHealth;
  let logBytesAtKill = 0;

  before(async () => {
    net = await TestDevnet.create({ name: "restart", nodes: 4, validators: 32 });
    net.startAll();
  });

  after(async () => {
    await net?.teardown();
  });

  it("the victim is SIGKILLed after finality passes slot 6", async () => {
    const [health] = await net.waitForHealth(
      [VICTIM],
      (hs) => hs.every((h) => h.finalized_slot >= 6),
      "victim finalized slot >= 6",
      60_000,
    );
    assert.ok(health !== undefined);
    beforeKill = health;
    // The finalized block must be served before the kill, or the comparison after it means nothing.
    assert.equal(await net.finalizedRoot(VICTIM, beforeKill.finalized_slot), beforeKill.finalized_root);
    logBytesAtKill = readFileSync(net.logPath(VICTIM)).length;
    const exit = await net.stop(VICTIM, "SIGKILL");
    assert.equal(exit.signal, "SIGKILL");
  });

  it("the others keep going while it is down (24/32 validators online)", async () => {
    const killSlot = beforeKill.current_slot;
    await net.waitForHealth(
      OTHERS,
      (hs) => hs.every((h) => h.current_slot >= killSlot + 4 && h.head_slot >= killSlot + 3),
      "4 slots without the victim",
      15_000,
    );
  });

  it("restarted on the same data dir, it resumes from its database with finality intact", async () => {
    net.start(VICTIM);
    const [first] = await net.waitForHealth([VICTIM], () => true, "restarted victim's health route", 20_000);
    assert.ok(first !== undefined);
    assert.ok(
      first.finalized_slot >= beforeKill.finalized_slot,
      `restarted with finalized slot ${first.finalized_slot} < ${beforeKill.finalized_slot} before the kill`,
    );
    const restartLog = readFileSync(net.logPath(VICTIM), "utf8").slice(logBytesAtKill);
    assert.match(restartLog, /resuming from the database/, "the restart did not resume from the database");
    assert.doesNotMatch(restartLog, /starting from genesis/, "the restart started over from genesis");
  });

  it("it catches up with the others' head", async () => {
    await net.waitForHealth(
      NODES,
      (hs) => {
        const victim = hs[VICTIM];
        const bestHead = Math.max(...hs.map((h) => h.head_slot));
        return victim !== undefined && victim.sync_state === "SYNCED" && bestHead - victim.head_slot <= 2;
      },
      "victim SYNCED with its head within 2 slots of the best head",
      30_000,
    );
  });

  it("its finalized history from before the kill is intact", async () => {
    assert.equal(await net.headerRoot(VICTIM, beforeKill.finalized_slot), beforeKill.finalized_root);
    for (let slot = 0; slot <= beforeKill.finalized_slot; slot++) {
      const [victimRoot, otherRoot] = await Promise.all([net.headerRoot(VICTIM, slot), net.headerRoot(0, slot)]);
      assert.equal(victimRoot, otherRoot, `slot ${slot}: victim and node 0 disagree`);
    }
  });

  it("finality keeps advancing on all four nodes, on one chain", async () => {
    const now = await net.waitForHealth(NODES, () => true, "health", 5_000);
    const target = Math.max(...now.map((h) => h.finalized_slot));
    const healths = await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot > target),
      `finality past slot ${target} on all nodes`,
      30_000,
    );
    const common = Math.min(...healths.map((h) => h.finalized_slot));
    const roots = await Promise.all(NODES.map((id) => net.finalizedRoot(id, common)));
    assert.ok(
      roots.every((r) => r !== null && r === roots[0]),
      `disagreement at finalized slot ${common}: ${roots.join(", ")}`,
    );
  });

  it("SIGTERM stops a node cleanly (exit code 0) within 5 s", async () => {
    const started = Date.now();
    const exit = await net.stop(3, "SIGTERM", 15_000);
    const elapsed = Date.now() - started;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM: ${JSON.stringify(exit)}`);
    assert.ok(elapsed < 5_000, `SIGTERM shutdown took ${elapsed} ms`);
    assert.match(readFileSync(net.logPath(3), "utf8"), /stopped/);
  });
});

// Crash injection: nodes of a running devnet are SIGKILLed at every write boundary of the
// finality path (METRONOME_CRASH_AT, the node kills itself exactly there) and at random moments,
// restarted each time on the same data dir. Afterwards no store is corrupt or needs repair, no
// finalized block is missing, and every node serves the whole canonical history.
//
// CI runs a short plan (each boundary once, plus random kills); the long run is
//   METRONOME_CRASH_KILLS=60 node --test --test-reporter=spec test/crashInjection.test.ts
// (figures in docs/operations.md).
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { fromHex } from "@metronome/chain";
import { ChainDb } from "../packages/node/src/db/chainDb.ts";
import { CRASH_ENV, type CrashPoint } from "../packages/node/src/db/crashHook.ts";
import { TestDevnet } from "./helpers/devnet.ts";

const NODES = [0, 1, 2, 3];
/** Node 0 stays up as the reference; the others take turns dying (one down at a time: 24/32 vote). */
const VICTIMS = [1, 2, 3];
/** Planned kills (each round also SIGKILLs the victim's running restart from its previous round). */
const KILLS = Number(process.env.METRONOME_CRASH_KILLS ?? 6);
/** A boundary the node must reach after a restart: a few finalizations at 1 s slots, under load. */
const SELF_KILL_DEADLINE_MS = 45_000;
const RANDOM_KILL_MAX_MS = 4_000;
/** Finalized slots whose headers are fetched from every node at once in the history check. */
const HISTORY_CHECK_PARALLEL_SLOTS = 8;

type Kill = { kind: "boundary"; point: CrashPoint; hit: number; wipe: boolean } | { kind: "random"; afterMs: number };

/** Every boundary once (init ones on a wiped data dir), then boundaries and random kills in turn. */
function plan(count: number, rand: () => number): Kill[] {
  const boundaries: Kill[] = [
    { kind: "boundary", point: "finality:before-batch", hit: 1, wipe: false },
    { kind: "boundary", point: "finality:after-batch", hit: 1, wipe: false },
    { kind: "boundary", point: "block:after-put", hit: 3, wipe: false },
    { kind: "boundary", point: "init:after-block", hit: 1, wipe: true },
    { kind: "boundary", point: "init:after-anchor", hit: 1, wipe: true },
  ];
  const out: Kill[] = [...boundaries];
  const repeatable = ["finality:before-batch", "finality:after-batch", "block:after-put"] as const;
  while (out.length < count) {
    if (out.length % 2 === 0) out.push({ kind: "random", afterMs: Math.floor(rand() * RANDOM_KILL_MAX_MS) });
    else {
      const point = repeatable[Math.floor(rand() * repeatable.length)] as CrashPoint;
      out.push({ kind: "boundary", point, hit: 1 + Math.floor(rand() * 3), wipe: false });
    }
  }
  return out.slice(0, Math.max(count, boundaries.length));
}

describe("crash injection: SIGKILL at every finality write boundary and at random", () => {
  let net: TestDevnet;
  const firstSeed = Number(process.env.METRONOME_CRASH_SEED ?? Date.now() % 100_000);
  let seed = firstSeed;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const kills = { boundary: 0, random: 0 };

  before(async () => {
    net = await TestDevnet.create({ name: "crash", nodes: 4, validators: 32 });
    net.startAll();
  });

  after(async () => {
    delete process.env[CRASH_ENV];
    await net?.teardown();
  });

  /** Spawns node `id` with the crash plan in its environment only. */
  function startWithCrash(id: number, value: string | null): void {
    if (value === null) delete process.env[CRASH_ENV];
    else process.env[CRASH_ENV] = value;
    try {
      net.start(id);
    } finally {
      delete process.env[CRASH_ENV];
    }
  }

  /**
   * The finalized root node `id` serves at `slot`. A connection reset is retried: undici may reuse
   * a keep-alive socket the node's server is closing at that moment; a node that is really down
   * fails all attempts.
   */
  async function rootWithRetry(id: number, slot: number): Promise<string | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await net.finalizedRoot(id, slot, 500);
      } catch (err) {
        if (attempt >= 3 || !net.isRunning(id)) throw err;
      }
    }
  }

  it("the devnet finalizes before the first kill", async () => {
    await net.waitForHealth(NODES, (hs) => hs.every((h) => h.finalized_slot >= 3), "finality >= 3", 90_000);
  });

  it(`survives ${Math.max(KILLS, 5)} planned kills (plus the kills of running restarts) on the same stores`, async () => {
    const started = Date.now();
    for (const [i, kill] of plan(KILLS, rand).entries()) {
      const victim = VICTIMS[i % VICTIMS.length] as number;
      // Its plain restart from the previous round must still be running (never refused its store).
      const previous = net.lastExit(victim);
      assert.ok(
        net.isRunning(victim),
        `kill ${i}: node ${victim} did not stay up after its restart: ${JSON.stringify(previous)}\n${net.logTail(victim)}`,
      );
      await net.stop(victim, "SIGKILL");
      kills.random++;
      if (kill.kind === "boundary") {
        if (kill.wipe) await rm(net.node(victim).dataDir, { recursive: true, force: true });
        startWithCrash(victim, `${kill.point}:${kill.hit}`);
        const exit = await net.waitExit(victim, SELF_KILL_DEADLINE_MS);
        assert.ok(
          exit !== null,
          `kill ${i}: node ${victim} never reached ${kill.point} #${kill.hit}\n${net.logTail(victim)}`,
        );
        assert.equal(
          exit.signal,
          "SIGKILL",
          `kill ${i}: node ${victim} exited ${JSON.stringify(exit)} before ${kill.point}\n${net.logTail(victim)}`,
        );
        kills.boundary++;
      } else {
        startWithCrash(victim, null);
        const exit = await net.waitExit(victim, kill.afterMs);
        assert.equal(
          exit,
          null,
          `kill ${i}: node ${victim} exited by itself ${JSON.stringify(exit)}\n${net.logTail(victim)}`,
        );
        await net.stop(victim, "SIGKILL");
        kills.random++;
      }
      // Restarted plainly; the next round that picks this node checks it is still up.
      startWithCrash(victim, null);
    }
    console.log(
      `# ${kills.boundary + kills.random} kills (${kills.boundary} at a boundary, ${kills.random} at random moments) in ${Math.round((Date.now() - started) / 1000)} s, seed ${firstSeed}`,
    );
    for (const id of VICTIMS) {
      await net.waitForHealth([id], () => true, `node ${id} back after the last kill`, 30_000);
    }
  });

  it("finality keeps moving on all four nodes afterwards", async () => {
    const now = await net.waitForHealth(NODES, () => true, "health", 10_000);
    const target = Math.max(...now.map((h) => h.finalized_slot)) + 2;
    await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot >= target && h.sync_state === "SYNCED"),
      `finality >= ${target} on every node`,
      90_000,
    );
  });

  it("every node serves the whole finalized canonical history, and all agree", async () => {
    const hs = await net.waitForHealth(NODES, () => true, "health", 10_000);
    const finalized = Math.min(...hs.map((h) => h.finalized_slot));
    let served = 0;
    // A few slots at a time: each asks all four nodes, and the long run has hundreds of slots.
    for (let from = 0; from <= finalized; from += HISTORY_CHECK_PARALLEL_SLOTS) {
      const slots = Array.from(
        { length: Math.min(HISTORY_CHECK_PARALLEL_SLOTS, finalized + 1 - from) },
        (_, i) => from + i,
      );
      const rows = await Promise.all(slots.map((slot) => Promise.all(NODES.map((id) => rootWithRetry(id, slot)))));
      rows.forEach((roots, i) => {
        assert.ok(
          roots.every((r) => r === roots[0]),
          `slot ${slots[i]}: nodes serve different finalized blocks: ${roots.join(", ")}`,
        );
        if (roots[0] !== null) served++;
      });
    }
    console.log(
      `# ${finalized + 1} finalized slots (${served} with a block) served identically by ${NODES.length} nodes`,
    );
    assert.ok(served > finalized / 2, `only ${served} of ${finalized + 1} finalized slots have a block`);
    assert.notEqual(await net.headerRoot(1, 0), null, "genesis is served");
  });

  it("no store is corrupt: each passes the start-up check with nothing to repair", async () => {
    for (const id of NODES) await net.stop(id, "SIGTERM", 10_000);
    const digest = fromHex(net.forkDigest);
    for (const id of NODES) {
      const db = await ChainDb.open(net.node(id).dataDir, digest);
      try {
        const anchor = await db.getAnchor();
        assert.ok(anchor !== null, `node ${id} has no anchor`);
        const check = await db.checkCanonicalChain();
        assert.equal(check.repaired, 0, `node ${id}'s finalized index needed ${check.repaired} repairs`);
        assert.ok(check.blocks > 1, `node ${id} checked ${check.blocks} blocks`);
        console.log(`# node ${id}: anchor slot ${anchor.checkpoint.slot}, ${check.blocks} canonical blocks, 0 repairs`);
      } finally {
        await db.close();
      }
    }
  });
});

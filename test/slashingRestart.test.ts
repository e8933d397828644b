// Restarting a node with in-node validators never makes it equivocate (issue 11 item 2). A gossip
// bystander records every vote and block on a small devnet while the victim is SIGKILLed right
// after it signed (a vote or a block, alternately, plus a random part of an interval) and restarted
// at once with `--doppelganger-slots 0`, so only the slashing-protection record stands between a
// restart and a second vote. Then: the victim restarted with the default doppelganger wait does not
// take its own earlier votes for a doppelganger, and a twin running the victim's keys from another
// data dir detects the victim and signs nothing.
//
// The default run kills 3 times with 1 s slots. A restart re-runs a duty it already signed only
// when it is back within the same interval, which needs slots long against the start-up time:
//   METRONOME_SLASHING_KILLS=20 METRONOME_SLASHING_SLOT_SECONDS=30 node --test test/slashingRestart.test.ts
// ("hits" in the output counts duties a restart re-ran after signing them: refused or same-root
// repeats, one per duty and slot).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { NodeHealth } from "../packages/devnet/src/health.ts";
import { DEFAULT_DOPPELGANGER_SLOTS } from "../packages/validator/src/slashing/doppelganger.ts";
import { sleep, TestDevnet } from "./helpers/devnet.ts";
import { SignedMessageRecorder } from "./helpers/signedMessages.ts";

const KILLS = Number(process.env.METRONOME_SLASHING_KILLS ?? 3);
const SLOT_SECONDS = Number(process.env.METRONOME_SLASHING_SLOT_SECONDS ?? 1);
const OTHER = 0;
const VICTIM = 1;
/** Never started by the devnet: runs the victim's keys from its own data dir. */
const TWIN = 2;
const POLL_MS = 20;
/** A restarted node on a loaded 2-core machine can take 10+ s to start. */
const RESTART_DEADLINE_MS = 60_000;
const NO_WAIT = ["--doppelganger-slots", "0"];

/** Like waitUntil, but polls every POLL_MS: a kill should land right after the signature it follows. */
async function waitFast(probe: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Distinct (duty, slot) pairs of the log lines matching `pattern` (one line per validator). */
function dutySlots(log: string, pattern: RegExp): number {
  const seen = new Set<string>();
  for (const line of log.split("\n")) {
    if (!pattern.test(line)) continue;
    const duty = /duty=(\w+)/.exec(line)?.[1];
    const slot = /slot=(\d+)/.exec(line)?.[1];
    seen.add(`${duty}:${slot}`);
  }
  return seen.size;
}

describe("slashing protection across restarts: SIGKILL mid-slot, 0 double votes, 0 double proposals", () => {
  let net: TestDevnet;
  let recorder: SignedMessageRecorder;
  let victimKeys: number[];
  let victimArgs: string[];

  before(async () => {
    net = await TestDevnet.create({ name: "slashing", nodes: 3, validators: 9, slotSeconds: SLOT_SECONDS });
    // The victim also runs the twin's genesis share: it proposes 6 slots of 9, so a kill after a
    // block does not wait long. It aggregates too: a restarted node signs its duty at once, before
    // its peers are back, so a second vote would otherwise often die unpublished; aggregated at
    // interval 2 it reaches the bystander.
    victimKeys = [...net.entry(VICTIM).validatorIndices, ...net.entry(TWIN).validatorIndices];
    victimArgs = ["--validator-indices", victimKeys.join(","), "--is-aggregator"];
    net.start(OTHER);
    net.start(VICTIM, [...victimArgs, ...NO_WAIT]);
    recorder = new SignedMessageRecorder(
      net.forkDigest,
      [net.multiaddr(OTHER), net.multiaddr(VICTIM)],
      net.genesis.chain.attestationCommitteeCount,
    );
    await recorder.start();
  });

  after(async () => {
    await recorder?.stop();
    await net?.teardown();
  });

  const lastVictimVote = () => Math.max(...victimKeys.map((i) => recorder.lastVote(i)));
  const lastVictimBlock = () => Math.max(...victimKeys.map((i) => recorder.lastBlock(i)));

  it(`${KILLS} kills right after a signature, each restarted at once: no validator signs twice`, async () => {
    const slotMs = net.slotMs;
    const intervalMs = slotMs / 5;
    // Both nodes up, and the victim's votes reach the bystander.
    await waitFast(() => lastVictimVote() >= 1, "the victim's first votes on gossip", 60_000 + 10 * slotMs);
    const started = Date.now();
    for (let k = 0; k < KILLS; k++) {
      const duty = k % 2 === 0 ? "vote" : "block";
      const last = duty === "vote" ? lastVictimVote : lastVictimBlock;
      const before = last();
      // The victim proposes 6 of every 9 slots; a vote comes every slot.
      await waitFast(
        () => last() > before,
        `kill ${k + 1}: a new ${duty} by the victim`,
        RESTART_DEADLINE_MS + 12 * slotMs,
      );
      // Somewhere in the first half of the interval after the signature.
      await sleep(Math.random() * (intervalMs / 2));
      const signedSlot = last();
      const exit = await net.stop(VICTIM, "SIGKILL");
      assert.equal(exit.signal, "SIGKILL");
      net.start(VICTIM, [...victimArgs, ...NO_WAIT]);
      // Signing resumed: a vote for a later slot than the one killed in.
      const killedVote = lastVictimVote();
      await waitFast(
        () => {
          if (!net.isRunning(VICTIM))
            throw new Error(`the victim exited after restart ${k + 1}\n${net.logTail(VICTIM)}`);
          return lastVictimVote() > killedVote;
        },
        `kill ${k + 1} (after the ${duty} of slot ${signedSlot}): the restarted victim voting again`,
        RESTART_DEADLINE_MS + 4 * slotMs,
      );
    }
    // Late copies of the last slots' messages.
    await sleep(2 * slotMs);
    const log = readFileSync(net.logPath(VICTIM), "utf8");
    const refused = dutySlots(log, /slashing protection refused to sign/);
    const repeats = dutySlots(log, /signing again what is already on record/);
    const summary = {
      kills: KILLS,
      slotSeconds: SLOT_SECONDS,
      seconds: Math.round((Date.now() - started) / 1000),
      gossipMessages: recorder.messages,
      votesRecorded: recorder.votes.size,
      blocksRecorded: recorder.proposals.size,
      hits: refused + repeats,
      refused,
      repeats,
      doubleVotes: recorder.doubleVotes().length,
      doubleProposals: recorder.doubleProposals().length,
    };
    console.log(`slashing restart summary: ${JSON.stringify(summary)}`);
    assert.deepEqual(recorder.doubleVotes(), [], "double votes on gossip");
    assert.deepEqual(recorder.doubleProposals(), [], "double proposals on gossip");
    assert.ok(recorder.votes.size > 0 && recorder.proposals.size > 0, "the bystander recorded votes and blocks");
  });

  it("restarted with the default doppelganger wait, the victim does not mistake its own votes for a doppelganger", async () => {
    await net.stop(VICTIM, "SIGKILL");
    net.start(VICTIM, [...victimArgs, "--doppelganger-slots", String(DEFAULT_DOPPELGANGER_SLOTS)]);
    // Waiting, and counting (the wait counts from the first slot the node is synced in).
    const [waiting] = await net.waitForHealth(
      [VICTIM],
      (hs) => hs[0]?.signing?.doppelganger_state === "waiting" && hs[0].signing.first_signing_slot !== null,
      "the restarted victim in its doppelganger wait, synced",
      RESTART_DEADLINE_MS,
    );
    const firstSigningSlot = waiting?.signing?.first_signing_slot;
    assert.ok(typeof firstSigningSlot === "number", JSON.stringify(waiting?.signing));
    const [passed] = await net.waitForHealth(
      [VICTIM],
      (hs) => (hs[0]?.current_slot ?? 0) >= firstSigningSlot + 1,
      "the doppelganger wait over",
      RESTART_DEADLINE_MS + 10 * net.slotMs,
    );
    assert.equal(passed?.signing?.doppelganger_state, "passed", JSON.stringify(passed?.signing));
    const votedBefore = lastVictimVote();
    await waitFast(() => lastVictimVote() > votedBefore, "the victim voting after its wait", 10 * net.slotMs);
    assert.ok(lastVictimVote() >= firstSigningSlot, "it signed nothing before the end of its wait");
  });

  it("a twin with the victim's keys and another data dir detects the victim and signs nothing", async () => {
    net.start(TWIN, ["--validator-indices", victimKeys.join(","), "--doppelganger-slots", "3"]);
    const [twin] = await net.waitForHealth(
      [TWIN],
      (hs: NodeHealth[]) => hs[0]?.signing?.doppelganger_state === "detected",
      "the twin detecting the victim",
      RESTART_DEADLINE_MS + 10 * net.slotMs,
    );
    const evidence = twin?.signing?.doppelganger;
    assert.ok(evidence && victimKeys.includes(evidence.validator_index), JSON.stringify(twin?.signing));
    assert.match(readFileSync(net.logPath(TWIN), "utf8"), /DOPPELGANGER DETECTED/);
    // It stays up (a passive beacon node) and keeps refusing: still no double vote anywhere.
    await sleep(3 * net.slotMs);
    assert.ok(net.isRunning(TWIN), "the twin stays up");
    const metrics = await net.scrapeMetrics(TWIN);
    assert.match(metrics, /^metronome_doppelganger_state 3$/m);
    assert.match(metrics, /^metronome_doppelganger_skipped_total\{duty="attestation",reason="detected"\} [1-9]/m);
    assert.deepEqual(recorder.doubleVotes(), []);
    assert.deepEqual(recorder.doubleProposals(), []);
  });
});

// The doppelganger watch against a real slashing-protection record: what counts as evidence of
// another signer (a verified message by our key the record does not hold, since the start slot),
// what does not (our own recorded signatures, older slots, other keys, anything after the wait),
// and that nothing is signed while waiting or ever after a detection.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { interopSecretKey } from "@metronome/chain";
import {
  DEFAULT_DOPPELGANGER_SLOTS,
  type DoppelgangerEvidence,
  DoppelgangerWatch,
} from "../../src/slashing/doppelganger.ts";
import { SlashingProtection } from "../../src/slashing/slashingProtection.ts";

const PK0 = interopSecretKey(0).toPublicKey().toBytes();
const PK1 = interopSecretKey(1).toPublicKey().toBytes();
const root = (byte: number) => new Uint8Array(32).fill(byte);

const dirs: string[] = [];
const open: SlashingProtection[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function watch(startSlot: number, waitSlots: number) {
  const dir = await mkdtemp(join(tmpdir(), "metronome-doppelganger-"));
  dirs.push(dir);
  const record = await SlashingProtection.open(dir, "0x12345678");
  open.push(record);
  const detections: DoppelgangerEvidence[] = [];
  const w = new DoppelgangerWatch({
    // Validators 0 and 1 are ours; 2 is not.
    keys: new Map([
      [0, PK0],
      [1, PK1],
    ]),
    startSlot,
    waitSlots,
    recordedRoot: (kind, pubkey, slot) => record.recordedRoot(kind, pubkey, slot),
    onDetected: (e) => detections.push(e),
  });
  return { w, record, detections };
}

describe("doppelganger watch", () => {
  it("waits the start slot plus N full slots, then signs", async () => {
    const { w } = await watch(10, 3);
    assert.equal(w.firstSigningSlot, 14);
    for (const slot of [10, 11, 12, 13]) {
      assert.equal(w.state(slot), "waiting");
      assert.equal(w.maySign(slot, slot), false, `slot ${slot}`);
    }
    assert.equal(w.state(14), "passed");
    assert.equal(w.maySign(14, 14), true);
    // A late duty of a waiting slot stays unsigned even once the wait is over.
    assert.equal(w.maySign(13, 14), false);
  });

  it("the wait counts from the first slot the signer listens in (a node: synced)", async () => {
    let synced = false;
    const w = new DoppelgangerWatch({
      keys: new Map([[0, PK0]]),
      startSlot: 10,
      waitSlots: 2,
      recordedRoot: async () => undefined,
      isListening: () => synced,
      onDetected: () => {},
    });
    for (const slot of [10, 11, 12, 13]) assert.equal(w.maySign(slot, slot), false, `deaf at slot ${slot}`);
    assert.equal(w.firstSigningSlot, Number.POSITIVE_INFINITY);
    synced = true;
    assert.equal(w.state(14), "waiting");
    assert.equal(w.firstSigningSlot, 17);
    assert.equal(w.maySign(16, 16), false);
    assert.equal(w.maySign(17, 17), true);
  });

  it("0 slots is off: signs at once and watches nothing", async () => {
    const { w, detections } = await watch(10, 0);
    assert.equal(w.state(10), "off");
    assert.equal(w.maySign(10, 10), true);
    w.observe("attestation", 0, 10, root(1), 10);
    await w.settled();
    assert.deepEqual(detections, []);
  });

  it("a verified vote by our key that is not on record is a doppelganger: nothing is signed again", async () => {
    const { w, detections } = await watch(10, DEFAULT_DOPPELGANGER_SLOTS);
    w.observe("attestation", 1, 11, root(5), 11);
    await w.settled();
    assert.equal(detections.length, 1);
    assert.deepEqual(detections[0], {
      kind: "attestation",
      validatorIndex: 1,
      slot: 11,
      signingRoot: `0x${"05".repeat(32)}`,
    });
    assert.equal(w.state(100), "detected");
    assert.equal(w.maySign(100, 100), false, "a detection stops signing for good");
    // Reported once.
    w.observe("block", 0, 12, root(6), 12);
    await w.settled();
    assert.equal(detections.length, 1);
  });

  it("our own signature from before the restart (same root on record) is not evidence; another root is", async () => {
    const { w, record, detections } = await watch(10, 3);
    await record.checkAndRecord("attestation", { pubkey: PK0, slot: 10, signingRoot: root(1) });
    await record.checkAndRecord("block", { pubkey: PK0, slot: 10, signingRoot: root(2) });
    w.observe("attestation", 0, 10, root(1), 10);
    w.observe("block", 0, 10, root(2), 10);
    await w.settled();
    assert.equal(detections.length, 0, "own recorded signatures");
    w.observe("block", 0, 10, root(3), 10);
    await w.settled();
    assert.equal(detections[0]?.kind, "block", "a second block at a recorded slot was signed elsewhere");
  });

  it("a slot on record with an unknown root (imported) is not evidence", async () => {
    const { w, record, detections } = await watch(10, 3);
    await record.importInterchange({
      forkDigest: "0x12345678",
      data: [
        {
          pubkey: `0x${Buffer.from(PK0).toString("hex")}`,
          signedBlocks: [],
          signedAttestations: [{ slot: 11, signingRoot: null }],
        },
      ],
    });
    w.observe("attestation", 0, 11, root(9), 11);
    await w.settled();
    assert.deepEqual(detections, []);
  });

  it("ignores other validators, slots before the start, and everything after the wait", async () => {
    const { w, detections } = await watch(10, 2);
    w.observe("attestation", 2, 11, root(1), 11);
    w.observe("attestation", 0, 9, root(1), 11);
    w.observe("block", 1, 5, root(1), 11);
    w.observe("attestation", 0, 13, root(1), 13);
    await w.settled();
    assert.deepEqual(detections, []);
    assert.equal(w.state(13), "passed");
  });

  it("a failed record lookup counts as evidence (fail safe)", async () => {
    const detections: DoppelgangerEvidence[] = [];
    const w = new DoppelgangerWatch({
      keys: new Map([[0, PK0]]),
      startSlot: 1,
      waitSlots: 2,
      recordedRoot: () => Promise.reject(new Error("disk gone")),
      onDetected: (e) => detections.push(e),
    });
    w.observe("attestation", 0, 1, root(1), 1);
    await w.settled();
    assert.equal(detections.length, 1);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Status } from "@metronome/chain";
import { SyncState, SyncTracker } from "../../src/sync/syncState.ts";

const root = new Uint8Array(32);
function status(finalized: number, head: number): Status {
  return { finalized: { root, slot: finalized }, head: { root, slot: head } };
}

describe("SyncTracker", () => {
  it("IDLE until a peer reports, SYNCING while behind, SYNCED once the head reaches network finality", () => {
    const changes: string[] = [];
    const t = new SyncTracker((from, to) => changes.push(`${from}->${to}`));
    assert.equal(t.state, SyncState.IDLE);
    assert.equal(t.acceptsAttestations, false);
    t.onPeerStatus("a", status(10, 14), 0);
    assert.equal(t.state, SyncState.SYNCING);
    assert.equal(t.acceptsAttestations, true);
    t.checkComplete(9, false);
    assert.equal(t.state, SyncState.SYNCING, "head below network finalized");
    t.checkComplete(12, true);
    assert.equal(t.state, SyncState.SYNCING, "a gap is still open");
    t.checkComplete(12, false);
    assert.equal(t.state, SyncState.SYNCED);
    assert.deepEqual(changes, ["IDLE->SYNCING", "SYNCING->SYNCED"]);
  });

  it("falls back to SYNCING on a new gap and to IDLE when the last peer leaves", () => {
    const t = new SyncTracker();
    t.onPeerStatus("a", status(0, 1), 0);
    t.checkComplete(1, false);
    assert.equal(t.state, SyncState.SYNCED);
    t.onPeerStatus("b", status(30, 33), 1);
    t.onPeerStatus("c", status(30, 33), 1);
    assert.equal(t.state, SyncState.SYNCING, "most peers finalized beyond our head");
    t.checkComplete(31, false);
    assert.equal(t.state, SyncState.SYNCED);
    t.onPeerStatus("b", status(40, 44), 31);
    t.onPeerStatus("c", status(40, 44), 31);
    t.checkGap(31);
    assert.equal(t.state, SyncState.SYNCING);
    t.onPeerDisconnected("a");
    t.onPeerDisconnected("b");
    assert.equal(t.state, SyncState.SYNCING);
    t.onPeerDisconnected("c");
    assert.equal(t.state, SyncState.IDLE);
    assert.equal(t.peerCount, 0);
  });

  it("never jumps IDLE -> SYNCED and picks the best peer by head", () => {
    const t = new SyncTracker();
    t.checkComplete(100, false);
    assert.equal(t.state, SyncState.IDLE);
    t.onPeerStatus("low", status(1, 5), 0);
    t.onPeerStatus("high", status(1, 9), 0);
    assert.equal(t.bestPeer()?.peer, "high");
    assert.equal(t.networkFinalizedSlot(), 1);
  });

  it("one peer lying about finality cannot hold the node in SYNCING; impossible statuses are refused", () => {
    const t = new SyncTracker();
    t.onPeerStatus("a", status(5, 8), 8, 8);
    t.onPeerStatus("b", status(5, 8), 8, 8);
    assert.equal(t.onPeerStatus("liar", status(1_000_000, 1_000_000), 8, 8), false, "head beyond the clock");
    assert.equal(t.onPeerStatus("liar2", status(9, 7), 8, 8), false, "finalized above its own head");
    t.onPeerStatus("c", status(6, 8), 8, 8);
    assert.equal(t.networkFinalizedSlot(), 5, "the slot most peers report");
    t.checkComplete(8, false);
    assert.equal(t.state, SyncState.SYNCED);
    assert.equal(t.peerStatus("liar"), undefined);
  });

  it("a genesis start begins in SYNCING so gossip flows before any Status", () => {
    const t = new SyncTracker(() => {}, true);
    assert.equal(t.state, SyncState.SYNCING);
    assert.equal(t.acceptsAttestations, true);
  });

  it("a peer whose claimed chain is not served stops counting: its Status alone cannot hold SYNCING", () => {
    const t = new SyncTracker(() => {}, true);
    t.onPeerStatus("liar", status(50, 60), 8, 60);
    t.checkComplete(8, false);
    assert.equal(t.state, SyncState.SYNCING, "believed at first");
    t.discredit("liar");
    assert.equal(t.networkFinalizedSlot(), null);
    t.checkGap(8);
    t.checkComplete(8, false);
    assert.equal(t.state, SyncState.SYNCED, "no credible claim left");
    t.checkGap(8);
    assert.equal(t.state, SyncState.SYNCED, "the liar's finality opens no gap");
    // An honest peer's claim still counts beside it; serving blocks restores the liar's voice.
    t.onPeerStatus("honest", status(20, 24), 8, 60);
    assert.equal(t.networkFinalizedSlot(), 20);
    assert.equal(t.state, SyncState.SYNCING);
    t.credit("liar");
    assert.equal(t.isDiscredited("liar"), false);
  });
});

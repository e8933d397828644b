// A Sybil flood's rate split: every identity sends its even share, in turn, and a duplicate is
// re-sent by another identity than the one that sent it first.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RateScheduler } from "../src/rateScheduler.ts";
import { RecentRing } from "../src/recentRing.ts";
import { MAX_FLOOD_PEERS, PeerRotation, perPeerRate } from "../src/sybil.ts";

describe("Sybil flood: the rate across N identities", () => {
  it("gives each identity rate / N", () => {
    assert.equal(perPeerRate(5100, 16), 318.75);
    assert.equal(perPeerRate(1000, 1), 1000);
    for (const bad of [0, -1, 1.5, MAX_FLOOD_PEERS + 1]) assert.throws(() => perPeerRate(1000, bad), RangeError);
  });

  it("sends one second of a 1600 msgs/s schedule as 100 from each of 16 identities, spread out", () => {
    const rotation = new PeerRotation(16);
    const perPeer = new Array<number>(16).fill(0);
    const order: number[] = [];
    let now = 0;
    let tick: () => void = () => {};
    const scheduler = new RateScheduler({
      rate: 1600,
      send: (n) => {
        for (let i = 0; i < n; i++) {
          const peer = rotation.next();
          perPeer[peer] = (perPeer[peer] as number) + 1;
          order.push(peer);
        }
        return n;
      },
      now: () => now,
      setTimer: (fn) => {
        tick = fn;
        return { cancel: () => {} };
      },
    });
    scheduler.start();
    for (let i = 0; i < 100; i++) {
      now += 10;
      tick();
    }
    assert.deepEqual(perPeer, new Array(16).fill(100));
    // Spread: every run of 16 consecutive messages holds each identity once.
    for (let i = 0; i + 16 <= order.length; i += 16) assert.equal(new Set(order.slice(i, i + 16)).size, 16);
  });

  it("an uneven count differs by at most one message between identities", () => {
    const rotation = new PeerRotation(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 100; i++) counts[rotation.next()]++;
    assert.deepEqual(counts, [34, 33, 33]);
  });

  it("echoes a duplicate from another identity, in turn, so shares stay even; one identity needs an echo host", () => {
    const rotation = new PeerRotation(4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) {
      // A duplicate after every message of identity 0: echoing from a fixed neighbour would double
      // identity 1's share.
      const sender = rotation.next();
      counts[sender]++;
      if (sender === 0) {
        const echo = rotation.echoFor(sender);
        assert.ok(echo !== null && echo !== sender && echo >= 0 && echo < 4);
        counts[echo]++;
      }
    }
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `shares ${counts.join(",")}`);
    assert.equal(new PeerRotation(1).echoFor(0), null);
  });

  it("the duplicate ring hands back the newest first, each once, within its capacity", () => {
    const ring = new RecentRing<number>(3);
    for (const n of [1, 2, 3, 4]) ring.push(n);
    assert.deepEqual([ring.popNewest(), ring.popNewest(), ring.popNewest(), ring.popNewest()], [4, 3, 2, undefined]);
  });
});

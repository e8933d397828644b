// The half-window update policy patches @chainsafe/libp2p-yamux's YamuxStream. These tests run the
// library's own sendWindowUpdate on a stream object (only the frame writer is recorded), so a
// version whose internals moved fails here; gossip and req/resp over real hosts run on it elsewhere.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { StreamState, YamuxStream } from "@chainsafe/libp2p-yamux/stream";
import { sendWindowUpdatesAtHalfWindow, shouldDeferWindowUpdate } from "../src/host/yamuxWindowUpdates.ts";
import { HostPool } from "./hosts.ts";

const WINDOW = 256 * 1024;

interface SentFrame {
  type: number;
  flag: number;
  length: number;
}

/** A YamuxStream's receive-side state without its socket: frames it sends are recorded. */
function receivingStream(state: StreamState) {
  const sent: SentFrame[] = [];
  const stream = Object.assign(Object.create(YamuxStream.prototype) as object, {
    streamId: 1,
    state,
    recvWindow: WINDOW,
    recvWindowCapacity: WINDOW,
    maxStreamWindowSize: 16 * 1024 * 1024,
    epochStart: Date.now(),
    getRTT: () => -1,
    sendFrame: (header: SentFrame) => sent.push(header),
  }) as unknown as { state: StreamState; recvWindowCapacity: number; sendWindowUpdate(): void };
  /** What handleData does per data frame: use up the window, then maybe send an update. */
  const receive = (bytes: number) => {
    stream.recvWindowCapacity -= bytes;
    stream.sendWindowUpdate();
  };
  return { stream, sent, receive };
}

describe("yamux window updates at half the window", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("a real host installs the patch", async () => {
    const host = await pool.start({});
    assert.equal(host.yamuxUpdatesAtHalfWindow, true);
    assert.equal(sendWindowUpdatesAtHalfWindow(), true, "installing twice is a no-op that reports success");
  });

  it("one update per half window of small frames, not one per frame", () => {
    assert.equal(sendWindowUpdatesAtHalfWindow(), true);
    const { sent, receive } = receivingStream(StreamState.Established);
    for (let i = 0; i < 1000; i++) receive(300); // 1000 gossip-sized frames, 300 KB in all
    assert.equal(sent.length, 2, `${sent.length} window updates for 1000 frames`);
    for (const frame of sent) {
      assert.ok(frame.length >= WINDOW / 2 && frame.length < WINDOW / 2 + 300, `update of ${frame.length} bytes`);
    }
  });

  it("keeps the library's updates for streams not established (they carry the SYN/ACK flags)", () => {
    const { sent, receive } = receivingStream(StreamState.SYNReceived);
    receive(300);
    assert.equal(sent.length, 1);
    assert.notEqual(sent[0]?.flag, 0, "the ACK goes out with the first update");
  });

  it("defers only while less than half the window is used", () => {
    const established = { state: StreamState.Established, recvWindow: WINDOW };
    assert.equal(shouldDeferWindowUpdate({ ...established, recvWindowCapacity: WINDOW - 1 }), true);
    assert.equal(shouldDeferWindowUpdate({ ...established, recvWindowCapacity: WINDOW / 2 + 1 }), true);
    assert.equal(shouldDeferWindowUpdate({ ...established, recvWindowCapacity: WINDOW / 2 }), false);
    assert.equal(shouldDeferWindowUpdate({ ...established, state: StreamState.Paused, recvWindowCapacity: 0 }), false);
  });
});

// A peer that stops reading its gossip: what the node holds for it is capped, and it is cut off.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gossipsubOptions } from "../src/gossip/options.ts";
import {
  GOSSIP_MAX_OUTBOUND_BUFFER_BYTES,
  OutboundBacklogWatch,
  readOutboundPeers,
} from "../src/gossip/outboundBacklog.ts";
import { waitFor } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

describe("OutboundBacklogWatch", () => {
  it("closes a peer only after it has been without an outbound stream for the set number of checks", () => {
    const watch = new OutboundBacklogWatch(3);
    assert.deepEqual(
      watch.check([
        { peer: "a", bufferedBytes: null },
        { peer: "b", bufferedBytes: 10 },
      ]),
      [],
    );
    assert.deepEqual(
      watch.check([
        { peer: "a", bufferedBytes: null },
        { peer: "b", bufferedBytes: 30 },
      ]),
      [],
    );
    assert.deepEqual(watch.stats(), { bufferedBytes: 30, maxPeerBufferedBytes: 30, lostStreamDisconnects: 0 });
    assert.deepEqual(watch.check([{ peer: "a", bufferedBytes: null }]), ["a"]);
    assert.equal(watch.stats().lostStreamDisconnects, 1);
  });

  it("forgets a miss when the stream appears or the peer leaves", () => {
    const watch = new OutboundBacklogWatch(2);
    watch.check([
      { peer: "a", bufferedBytes: null },
      { peer: "b", bufferedBytes: null },
    ]);
    // a's stream opened late; b went away and came back: both start counting afresh.
    watch.check([{ peer: "a", bufferedBytes: 0 }]);
    assert.deepEqual(
      watch.check([
        { peer: "a", bufferedBytes: null },
        { peer: "b", bufferedBytes: null },
      ]),
      [],
    );
    assert.deepEqual(
      watch.check([
        { peer: "a", bufferedBytes: null },
        { peer: "b", bufferedBytes: null },
      ]),
      ["a", "b"],
    );
  });

  it("sums the backlog and names the most behind peer's", () => {
    const watch = new OutboundBacklogWatch();
    watch.check([
      { peer: "a", bufferedBytes: 100 },
      { peer: "b", bufferedBytes: 700 },
      { peer: "c", bufferedBytes: 0 },
    ]);
    assert.deepEqual(watch.stats(), { bufferedBytes: 800, maxPeerBufferedBytes: 700, lostStreamDisconnects: 0 });
  });
});

describe("readOutboundPeers", () => {
  it("reads each gossip peer's unread bytes, null without a stream", () => {
    const pubsub = {
      peers: new Map([
        ["a", {}],
        ["b", {}],
      ]),
      streamsOutbound: new Map([["a", { rawStream: { writeBufferLength: 42 } }]]),
    };
    assert.deepEqual(readOutboundPeers(pubsub), [
      { peer: "a", bufferedBytes: 42 },
      { peer: "b", bufferedBytes: null },
    ]);
  });

  it("never reports a peer missing because gossipsub's shape changed", () => {
    assert.deepEqual(readOutboundPeers({}), []);
    const pubsub = { peers: new Map([["a", {}]]), streamsOutbound: new Map([["a", { other: 1 }]]) };
    assert.deepEqual(readOutboundPeers(pubsub), [{ peer: "a", bufferedBytes: 0 }]);
  });

  it("is what gossipsub is built with", () => {
    const options = gossipsubOptions({
      payloads: { get: () => ({ ok: false }) } as never,
      counters: {} as never,
      forkDigest: "12345678",
      attestationSubnetCount: 1,
      slotDurationMs: 4000,
      appScore: () => 0,
      allowedTopics: [],
    });
    assert.equal(options.maxOutboundBufferSize, GOSSIP_MAX_OUTBOUND_BUFFER_BYTES);
  });
});

describe("a gossip peer that stops reading (real hosts, the peer in a stopped process)", () => {
  const pool = new HostPool();
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill("SIGKILL");
    child = undefined;
    await pool.stopAll();
  });

  it("holds at most the cap for it, then closes its connection", async () => {
    const capBytes = 64 * 1024;
    const node = await pool.start({
      gossipOutbound: { maxBufferBytes: capBytes, lostChecks: 2, checkIntervalMs: 200 },
    });
    node.subscribe();
    const script = fileURLToPath(new URL("./stallingPeer.ts", import.meta.url));
    const peer = spawn(process.execPath, [script, node.multiaddrs()[0] as string], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child = peer;
    const peerId = await new Promise<string>((resolve, reject) => {
      let out = "";
      peer.stdout?.on("data", (b: Buffer) => {
        out += b.toString("utf8");
        const match = /ready (\S+)/.exec(out);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      peer.on("exit", (code) => reject(new Error(`stalling peer exited (${code}) before it was ready`)));
    });
    await waitFor(() => node.gossipSubscribers("block").includes(peerId), "the peer subscribed to blocks", 15_000);
    assert.ok(process.kill(peer.pid as number, "SIGSTOP"));

    // Publish 4 KiB payloads to the peer that no longer reads: far more than the cap plus what
    // yamux's window and the sockets can take.
    const payloadBytes = 4096;
    let maxBacklog = 0;
    let publishedBytes = 0;
    const deadline = Date.now() + 30_000;
    while (node.stats().gossip_outbound_lost_disconnects === 0) {
      assert.ok(Date.now() < deadline, "the stalled peer was never cut off");
      await node.publishRaw(node.topicName("block"), randomBytes(payloadBytes)).catch(() => 0);
      publishedBytes += payloadBytes;
      maxBacklog = Math.max(maxBacklog, node.memoryStats().gossipOutbound.maxPeerBufferedBytes);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => !node.isConnected(peerId), "the stalled peer's connection closed", 15_000);
    // Cut off for its backlog, not for anything else: more than the cap had been sent its way.
    assert.ok(publishedBytes > capBytes, `published ${publishedBytes} B before the cut-off`);
    assert.ok(maxBacklog <= capBytes + payloadBytes + 64, `backlog ${maxBacklog} B stayed within the cap`);
  });
});

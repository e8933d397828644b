import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BlocksByRootRequest, MAX_REQUEST_BLOCKS, rootKey, SignedBlock, Status } from "@metronome/chain";
import { encodeSnappyFrames } from "../src/encoding/snappyFrames.ts";
import { encodeVarint } from "../src/encoding/varint.ts";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";
import type { NetworkHost } from "../src/host/networkHost.ts";
import { ResultCode } from "../src/reqresp/protocols.ts";
import { encodeRequest } from "../src/reqresp/wire.ts";
import { blockRoot, sampleBlock, sampleStatus, waitFor } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

const chain = [1, 2, 3, 5, 8].map((slot) => sampleBlock(slot));
const byRoot = new Map(chain.map((b) => [rootKey(blockRoot(b)), b]));

describe("req/resp between real hosts", () => {
  const pool = new HostPool();
  let server: NetworkHost;
  let client: NetworkHost;
  const seenStatus: Array<{ peer: string; status: Status }> = [];

  before(async () => {
    server = await pool.start({
      reqResp: { timeoutMs: 2000, rateLimits: { status: { capacity: 1000, refillPerSecond: 1000 } } },
      // These tests send malformed requests on purpose, more than the score tolerates.
      peerScoreDisconnects: false,
    });
    client = await pool.start({ bootnodes: [server.multiaddrs()[0] as string] });
    server.setReqRespHandlers({
      status: () => sampleStatus(8),
      blocksByRoot: (roots) => roots.flatMap((r) => byRoot.get(rootKey(r)) ?? []),
      blocksByRange: (start, count) => chain.filter((b) => b.block.slot >= start && b.block.slot < start + count),
      onPeerStatus: (peer, status) => seenStatus.push({ peer, status }),
    });
    client.setReqRespHandlers({ status: () => sampleStatus(2) });
    await waitFor(() => client.isConnected(server.peerId), "client connected to server");
  });
  after(() => pool.stopAll());

  it("status round trip, and the server hears the client's status", async () => {
    const status = await client.status(server.peerId);
    assert.ok(Status.equals(status, sampleStatus(8)));
    assert.equal(seenStatus.length, 1);
    assert.equal(seenStatus[0]?.peer, client.peerId);
    assert.ok(Status.equals(seenStatus[0]?.status as Status, sampleStatus(2)));
  });

  it("blocks_by_root returns known blocks and skips unknown roots", async () => {
    const unknown = new Uint8Array(32).fill(0xee);
    const wanted = [blockRoot(chain[3] as SignedBlock), unknown, blockRoot(chain[0] as SignedBlock)];
    const blocks = await client.blocksByRoot(server.peerId, wanted);
    assert.deepEqual(
      blocks.map((b) => b.block.slot),
      [5, 1],
    );
    assert.ok(SignedBlock.equals(blocks[0] as SignedBlock, chain[3] as SignedBlock));
  });

  it("blocks_by_range returns the blocks in the range, in slot order", async () => {
    const blocks = await client.blocksByRange(server.peerId, 2, 4);
    assert.deepEqual(
      blocks.map((b) => b.block.slot),
      [2, 3, 5],
    );
  });

  it("a malformed request gets result code 1 with a message", async () => {
    const before = server.stats().reqresp_invalid_requests;
    // Valid framing, but 80 bytes of status replaced by 16: wrong SSZ size for Status.
    const chunks = await client.requestRaw(server.peerId, "status", encodeRequest(new Uint8Array(16)));
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]?.code, ResultCode.INVALID_REQUEST);
    assert.ok(new TextDecoder().decode(chunks[0]?.payload).length > 0);
    // Not snappy at all after the length prefix.
    const garbage = await client.requestRaw(
      server.peerId,
      "blocksByRange",
      new Uint8Array([...encodeVarint(16), 1, 2, 3, 4, 5, 6]),
    );
    assert.equal(garbage[0]?.code, ResultCode.INVALID_REQUEST);
    // count = 0 is refused too.
    const zero = new Uint8Array(16);
    const zeroCount = await client.requestRaw(server.peerId, "blocksByRange", encodeRequest(zero));
    assert.equal(zeroCount[0]?.code, ResultCode.INVALID_REQUEST);
    assert.equal(server.stats().reqresp_invalid_requests, before + 3);
    // The typed client surfaces result codes as PEER_ERROR.
    await assert.rejects(
      client.blocksByRange(server.peerId, Number.MAX_SAFE_INTEGER - 1, 5),
      (err) => isNetworkError(err, NetworkErrorCode.PEER_ERROR) && err.resultCode === ResultCode.INVALID_REQUEST,
    );
  });

  it("more than 1024 roots gets result code 1", async () => {
    const roots = Array.from({ length: MAX_REQUEST_BLOCKS + 1 }, (_, i) => {
      const r = new Uint8Array(32);
      new DataView(r.buffer).setUint32(0, i);
      return r;
    });
    // Serialize by hand: the SSZ type itself refuses lists over its limit.
    const ssz = new Uint8Array(4 + 32 * roots.length);
    new DataView(ssz.buffer).setUint32(0, 4, true);
    for (const [i, r] of roots.entries()) ssz.set(r, 4 + 32 * i);
    const chunks = await client.requestRaw(server.peerId, "blocksByRoot", encodeRequest(ssz));
    assert.deepEqual(
      chunks.map((c) => c.code),
      [ResultCode.INVALID_REQUEST],
    );
    // Exactly 1024 is fine (and all unknown, so no chunks).
    const ok = BlocksByRootRequest.serialize({ roots: roots.slice(0, MAX_REQUEST_BLOCKS) });
    assert.deepEqual(await client.requestRaw(server.peerId, "blocksByRoot", encodeRequest(ok)), []);
    // The typed client refuses to build such a request at all.
    await assert.rejects(client.blocksByRoot(server.peerId, roots), (err) =>
      isNetworkError(err, NetworkErrorCode.INVALID_REQUEST),
    );
  });

  it("an oversized declared length is refused from the prefix alone", async () => {
    // Declares 64 MiB and sends only the stream identifier: the answer must come without the body.
    const request = new Uint8Array([...encodeVarint(64 * 1024 * 1024), ...encodeSnappyFrames(new Uint8Array(0))]);
    const chunks = await client.requestRaw(server.peerId, "blocksByRoot", request);
    assert.equal(chunks[0]?.code, ResultCode.INVALID_REQUEST);
    // Within 10 MiB but beyond what a BlocksByRoot request can be.
    const tooBigForRoots = new Uint8Array([...encodeVarint(5 * 1024 * 1024), ...encodeSnappyFrames(new Uint8Array(0))]);
    const second = await client.requestRaw(server.peerId, "blocksByRoot", tooBigForRoots);
    assert.equal(second[0]?.code, ResultCode.INVALID_REQUEST);
  });

  it("unrequested or out-of-range blocks surface as INVALID_RESPONSE", async () => {
    const rogue = await pool.start({ bootnodes: [server.multiaddrs()[0] as string] });
    rogue.setReqRespHandlers({
      status: () => sampleStatus(1),
      blocksByRoot: () => [sampleBlock(99)],
      blocksByRange: () => [sampleBlock(50), sampleBlock(40)],
    });
    await waitFor(() => rogue.isConnected(server.peerId), "rogue connected");
    await client.dial(rogue.multiaddrs()[0] as string);
    await assert.rejects(client.blocksByRoot(rogue.peerId, [blockRoot(sampleBlock(1))]), (err) =>
      isNetworkError(err, NetworkErrorCode.INVALID_RESPONSE),
    );
    await assert.rejects(client.blocksByRange(rogue.peerId, 40, 20), (err) =>
      isNetworkError(err, NetworkErrorCode.INVALID_RESPONSE),
    );
    assert.ok(client.stats().reqresp_outbound_invalid_responses >= 2);
    await pool.stop(rogue);
  });
});

describe("req/resp limits", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("a burst over the rate limit gets result code 3 and is counted", async () => {
    const server = await pool.start({
      reqResp: { timeoutMs: 2000, rateLimits: { status: { capacity: 3, refillPerSecond: 0.01 } } },
    });
    const client = await pool.start({ bootnodes: [server.multiaddrs()[0] as string] });
    server.setReqRespHandlers({ status: () => sampleStatus(4) });
    client.setReqRespHandlers({ status: () => sampleStatus(0) });
    await waitFor(() => client.isConnected(server.peerId), "connected");
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => client.status(server.peerId)));
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const limited = results.filter(
      (r) =>
        r.status === "rejected" &&
        isNetworkError(r.reason, NetworkErrorCode.PEER_ERROR) &&
        r.reason.resultCode === ResultCode.RESOURCE_UNAVAILABLE,
    ).length;
    assert.equal(ok, 3);
    assert.equal(limited, 3);
    assert.equal(server.stats().reqresp_rate_limited, 3);
    assert.equal(client.stats().reqresp_outbound_peer_errors, 3);
    // The same exchanges, labelled for the metrics: each side counts each request once.
    const served = server.labelledStats();
    assert.equal(served.reqresp.status.inbound.success, 3);
    assert.equal(served.reqresp.status.inbound.rate_limited, 3);
    assert.equal(served.reqresp.status.outbound.success, 0);
    const asked = client.labelledStats();
    assert.equal(asked.reqresp.status.outbound.success, 3);
    assert.equal(asked.reqresp.status.outbound.resource_unavailable, 3);
    // One connection each way: the client dialled the server.
    assert.equal(served.peerConnections.inbound.success, 1);
    assert.equal(asked.peerConnections.outbound.success, 1);
  });

  it("the response timeout fires when the server's handler hangs", async () => {
    const server = await pool.start({ reqResp: { timeoutMs: 5000 } });
    const client = await pool.start({ bootnodes: [server.multiaddrs()[0] as string], reqResp: { timeoutMs: 300 } });
    server.setReqRespHandlers({ blocksByRange: () => new Promise<SignedBlock[]>(() => {}) });
    await waitFor(() => client.isConnected(server.peerId), "connected");
    const started = Date.now();
    await assert.rejects(client.blocksByRange(server.peerId, 0, 10), (err) =>
      isNetworkError(err, NetworkErrorCode.TIMEOUT),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `timed out after ${elapsed} ms`);
    assert.equal(client.stats().reqresp_outbound_timeouts, 1);
    // The connection survives a timed-out request.
    assert.ok(client.isConnected(server.peerId));
  });

  it("a hung handler gets a server error once the server's own deadline passes", async () => {
    const server = await pool.start({ reqResp: { timeoutMs: 300 } });
    const client = await pool.start({ bootnodes: [server.multiaddrs()[0] as string], reqResp: { timeoutMs: 3000 } });
    server.setReqRespHandlers({ blocksByRoot: () => new Promise<SignedBlock[]>(() => {}) });
    await waitFor(() => client.isConnected(server.peerId), "connected");
    await assert.rejects(
      client.blocksByRoot(server.peerId, [new Uint8Array(32)]),
      (err) => isNetworkError(err, NetworkErrorCode.PEER_ERROR) && err.resultCode === ResultCode.SERVER_ERROR,
    );
    assert.equal(server.stats().reqresp_server_errors, 1);
  });

  it("requests to an unknown peer fail with a typed error", async () => {
    const client = await pool.start();
    client.setReqRespHandlers({ status: () => sampleStatus(0) });
    await assert.rejects(client.status("not-a-peer-id"), (err) => isNetworkError(err, NetworkErrorCode.DIAL_FAILED));
  });
});

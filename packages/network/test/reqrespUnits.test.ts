import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeVarint } from "../src/encoding/varint.ts";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";
import { BootnodeDialer, peerIdOfMultiaddr } from "../src/host/bootnodes.ts";
import { MAX_ERROR_MESSAGE_SIZE, ResultCode } from "../src/reqresp/protocols.ts";
import { TokenBucketLimiter } from "../src/reqresp/rateLimiter.ts";
import { StreamReader } from "../src/reqresp/streamReader.ts";
import {
  encodeErrorChunk,
  encodeRequest,
  encodeResponseChunk,
  readFramedPayload,
  readResponseChunk,
} from "../src/reqresp/wire.ts";
import { NetworkCounters } from "../src/stats.ts";

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

describe("req/resp wire", () => {
  it("reads a request split into 1-byte pieces", async () => {
    const ssz = new Uint8Array(3000).map((_, i) => i % 251);
    const reader = new StreamReader(pieces(encodeRequest(ssz), 1));
    assert.deepEqual(await readFramedPayload(reader, 1 << 20), ssz);
  });

  it("reads several response chunks then a clean end", async () => {
    const wire = new Uint8Array([
      ...encodeResponseChunk(ResultCode.SUCCESS, Uint8Array.of(1, 2, 3)),
      ...encodeResponseChunk(ResultCode.SUCCESS, new Uint8Array(0)),
      ...encodeErrorChunk(ResultCode.RESOURCE_UNAVAILABLE, "gone"),
    ]);
    const reader = new StreamReader(pieces(wire, 7));
    assert.deepEqual(await readResponseChunk(reader, 100), { code: 0, payload: Uint8Array.of(1, 2, 3) });
    assert.deepEqual(await readResponseChunk(reader, 100), { code: 0, payload: new Uint8Array(0) });
    const error = await readResponseChunk(reader, 100);
    assert.equal(error?.code, ResultCode.RESOURCE_UNAVAILABLE);
    assert.equal(new TextDecoder().decode(error?.payload), "gone");
    assert.equal(await readResponseChunk(reader, 100), null);
  });

  it("truncates error messages to 256 bytes and refuses longer ones on read", async () => {
    const chunk = encodeErrorChunk(ResultCode.SERVER_ERROR, "x".repeat(1000));
    const reader = new StreamReader(pieces(chunk, 64));
    const read = await readResponseChunk(reader, 1 << 20);
    assert.equal(read?.payload.length, MAX_ERROR_MESSAGE_SIZE);
    const tooLong = encodeResponseChunk(ResultCode.SERVER_ERROR, new Uint8Array(MAX_ERROR_MESSAGE_SIZE + 1));
    await assert.rejects(readResponseChunk(new StreamReader(pieces(tooLong, 64)), 1 << 20), (err) =>
      isNetworkError(err, NetworkErrorCode.PAYLOAD_TOO_LARGE),
    );
  });

  it("refuses an oversized declared length before reading the body", async () => {
    let pulled = 0;
    async function* source() {
      pulled++;
      yield encodeVarint(64 * 1024 * 1024);
      pulled++;
      yield new Uint8Array(1024);
    }
    await assert.rejects(readFramedPayload(new StreamReader(source()), 10 * 1024 * 1024), (err) =>
      isNetworkError(err, NetworkErrorCode.PAYLOAD_TOO_LARGE),
    );
    assert.equal(pulled, 1);
  });

  it("reports a stream that ends mid-payload", async () => {
    const request = encodeRequest(new Uint8Array(500).fill(1));
    await assert.rejects(
      readFramedPayload(new StreamReader(pieces(request.subarray(0, request.length - 3), 10)), 1 << 20),
      (err) => isNetworkError(err, NetworkErrorCode.STREAM_ENDED),
    );
  });
});

describe("token bucket", () => {
  it("allows a burst, refuses the excess, and refills over time", () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 2 }, 10, () => now);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.tryTake("a")),
      [true, true, true, false],
    );
    assert.equal(limiter.tryTake("b"), true, "buckets are per key");
    now += 499;
    assert.equal(limiter.tryTake("a"), false);
    now += 2;
    assert.equal(limiter.tryTake("a"), true);
    now += 60_000;
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.tryTake("a")),
      [true, true, true, false],
      "capped at capacity",
    );
  });

  it("caps the number of tracked keys", () => {
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0 }, 3, () => 0);
    for (const key of ["a", "b", "c", "d", "e"]) limiter.tryTake(key);
    assert.equal(limiter.size, 3);
  });
});

describe("bootnode dialer", () => {
  it("backs off exponentially up to the ceiling", () => {
    const dialer = new BootnodeDialer(
      [],
      { dial: async () => "x", isConnected: () => false, counters: new NetworkCounters() },
      { initialDelayMs: 100, maxDelayMs: 1000 },
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4, 50].map((n) => dialer.delayFor(n)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it("retries a failing bootnode until it answers, then stops dialing", async () => {
    let calls = 0;
    let connected = false;
    const dialer = new BootnodeDialer(
      ["/ip4/127.0.0.1/tcp/1/p2p/peerA"],
      {
        dial: async () => {
          calls++;
          if (calls < 3) throw new Error("refused");
          connected = true;
          return "peerA";
        },
        isConnected: () => connected,
        counters: new NetworkCounters(),
      },
      { initialDelayMs: 5, maxDelayMs: 20 },
    );
    dialer.start();
    const deadline = Date.now() + 2000;
    while (!connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(connected, true);
    assert.equal(calls, 3);
    dialer.onPeerDisconnected("someone-else");
    connected = false;
    dialer.onPeerDisconnected("peerA");
    const deadline2 = Date.now() + 2000;
    while (calls < 4 && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 5));
    dialer.stop();
    assert.equal(calls, 4, "a lost bootnode is dialed again");
  });

  it("reads the peer id from a multiaddr", () => {
    assert.equal(peerIdOfMultiaddr("/ip4/1.2.3.4/tcp/9000/p2p/12D3KooWabc"), "12D3KooWabc");
    assert.equal(peerIdOfMultiaddr("/ip4/1.2.3.4/tcp/9000"), undefined);
  });
});

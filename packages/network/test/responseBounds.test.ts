// What one outbound response, and all of them together, may make the node hold: the per-chunk
// bound (a block this node could import), the per-request bound (count x that), the shared budget
// of response bytes, and the refusal of excess chunks, each checked before the bytes are read.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AggregationBits,
  type Block,
  MAX_ATTESTATIONS_DATA,
  MAX_VALID_SIGNED_BLOCK_SIZE,
  type SignedBlock,
  SignedBlock as SignedBlockType,
} from "@metronome/chain";
import { encodeVarint } from "../src/encoding/varint.ts";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";
import { GOSSIP_MAX_SSZ_BYTES } from "../src/gossip/topicLimits.ts";
import {
  type ClientPeerAction,
  MAX_INFLIGHT_RESPONSE_BYTES,
  MAX_RESPONSE_CHUNK_BYTES,
  ReqRespClient,
} from "../src/reqresp/client.ts";
import { ResultCode } from "../src/reqresp/protocols.ts";
import { ResponseBudget } from "../src/reqresp/responseBudget.ts";
import type { ReqRespStream } from "../src/reqresp/stream.ts";
import type { ByteChunk } from "../src/reqresp/streamReader.ts";
import { encodeResponseChunk } from "../src/reqresp/wire.ts";
import { NetworkCounters } from "../src/stats.ts";
import { blockRoot, sampleBlock } from "./fixtures.ts";

/** Every bit of the largest aggregation bitlist set: 4096 bits and the delimiter, 513 bytes. */
const FULL_BITS = AggregationBits.deserialize(Uint8Array.from([...new Array(512).fill(0xff), 0x01]));

/** A block with `count` aggregates of distinct data, each with a full bitlist. */
function blockWithAggregates(count: number): SignedBlock {
  const checkpoint = { root: new Uint8Array(32), slot: 0 };
  const block: Block = {
    slot: 1,
    proposerIndex: 0,
    parentRoot: new Uint8Array(32).fill(7),
    stateRoot: new Uint8Array(32),
    body: {
      attestations: Array.from({ length: count }, (_, slot) => ({
        aggregationBits: FULL_BITS,
        data: { slot, head: checkpoint, target: checkpoint, source: checkpoint },
      })),
    },
  };
  return { block, signature: new Uint8Array(96) };
}

/**
 * A peer's side of one stream: the response arrives in `pieces`, and `pulled` counts how many of
 * them the client asked for. With `hold`, the response waits until hold() is released.
 */
class FakeStream implements ReqRespStream {
  pulled = 0;
  aborted = false;
  private readonly pieces: Uint8Array[];
  private readonly gate: Promise<void>;

  constructor(pieces: Uint8Array[], gate: Promise<void> = Promise.resolve()) {
    this.pieces = pieces;
    this.gate = gate;
  }

  send(): boolean {
    return true;
  }

  async onDrain(): Promise<void> {}

  async close(): Promise<void> {}

  abort(): void {
    this.aborted = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ByteChunk> {
    await this.gate;
    for (const piece of this.pieces) {
      if (this.aborted) return;
      this.pulled++;
      yield piece;
    }
  }
}

/** A client whose every stream is the next of `streams`, with its counters and the peer actions it reported. */
function clientWith(streams: FakeStream[], budget?: ResponseBudget) {
  const counters = new NetworkCounters();
  const actions: ClientPeerAction[] = [];
  let opened = 0;
  const client = new ReqRespClient(
    async () => {
      const stream = streams[opened++];
      if (stream === undefined) throw new Error("no stream left");
      return stream;
    },
    { counters, timeoutMs: 5_000, onPeerAction: (_peer, action) => actions.push(action), responseBudget: budget },
  );
  return { client, counters, actions, opened: () => opened };
}

describe("the largest block a response or a gossip message may carry", () => {
  it("is a block of MAX_ATTESTATIONS_DATA full aggregates: 5,380 bytes, not the type's 2.6 MB", () => {
    const largest = SignedBlockType.serialize(blockWithAggregates(MAX_ATTESTATIONS_DATA));
    assert.equal(largest.length, MAX_VALID_SIGNED_BLOCK_SIZE);
    assert.equal(MAX_VALID_SIGNED_BLOCK_SIZE, 5380);
    assert.ok(SignedBlockType.maxSize > 2_600_000);
    assert.equal(MAX_RESPONSE_CHUNK_BYTES.block, MAX_VALID_SIGNED_BLOCK_SIZE);
    assert.equal(GOSSIP_MAX_SSZ_BYTES.block, MAX_VALID_SIGNED_BLOCK_SIZE);
  });
});

describe("ResponseBudget", () => {
  it("reserves up to its capacity, refuses and counts past it, and takes releases once", () => {
    const budget = new ResponseBudget(100);
    const a = budget.tryReserve(60);
    assert.ok(a !== null);
    assert.equal(budget.tryReserve(41), null, "60 + 41 > 100");
    const b = budget.tryReserve(40);
    assert.ok(b !== null);
    assert.deepEqual(budget.stats(), {
      capacityBytes: 100,
      inFlightBytes: 100,
      inFlightRequests: 2,
      peakBytes: 100,
      refused: 1,
    });
    a.release();
    a.release();
    assert.equal(budget.stats().inFlightBytes, 40, "a second release of the same reservation changes nothing");
    assert.ok(budget.tryReserve(60) !== null);
    assert.equal(budget.stats().refused, 1);
    assert.throws(() => new ResponseBudget(0), RangeError);
  });
});

describe("outbound responses are bounded before their bytes are read", () => {
  it("a block chunk declaring more than the largest importable block is refused on its length prefix", async () => {
    // What the hostile-peer bench's rogue answers: a 2.6 MB block of 4096 full aggregates. Its
    // body (the second piece) is never pulled, so it is neither decompressed, decoded nor hashed.
    const ssz = SignedBlockType.serialize(blockWithAggregates(4096));
    const huge = encodeResponseChunk(ResultCode.SUCCESS, ssz);
    const headerBytes = 1 + encodeVarint(ssz.length).length; // the result byte and the declared length
    const stream = new FakeStream([huge.subarray(0, headerBytes), huge.subarray(headerBytes)]);
    const { client, counters, actions } = clientWith([stream]);
    await assert.rejects(client.blocksByRoot("peer", [new Uint8Array(32).fill(1)]), (err) =>
      isNetworkError(err, NetworkErrorCode.INVALID_RESPONSE),
    );
    assert.equal(stream.pulled, 1, "only the chunk's header was read");
    assert.equal(counters.get("reqresp_outbound_oversized_responses"), 1);
    assert.deepEqual(actions, ["oversized_response"]);
  });

  it("a chunk past the count asked for is refused on its first byte", async () => {
    const wanted = sampleBlock(5);
    const extra = encodeResponseChunk(ResultCode.SUCCESS, SignedBlockType.serialize(sampleBlock(6)));
    const stream = new FakeStream([
      encodeResponseChunk(ResultCode.SUCCESS, SignedBlockType.serialize(wanted)),
      extra.subarray(0, 1),
      extra.subarray(1),
    ]);
    const { client, actions } = clientWith([stream]);
    await assert.rejects(client.blocksByRange("peer", 5, 1), (err) =>
      isNetworkError(err, NetworkErrorCode.INVALID_RESPONSE),
    );
    assert.equal(stream.pulled, 2, "the extra chunk's payload was not read");
    assert.deepEqual(actions, ["malformed_response"]);
  });

  it("requests share one budget: one that does not fit is refused unsent, counted, and blames no peer", async () => {
    // Room for exactly one BlocksByRoot of 16 roots (16 x 5,380 bytes reserved).
    const budget = new ResponseBudget(16 * MAX_VALID_SIGNED_BLOCK_SIZE);
    let respond = () => {};
    const first = new FakeStream(
      [],
      new Promise<void>((resolve) => {
        respond = resolve;
      }),
    );
    const wanted = sampleBlock(9);
    const later = new FakeStream([encodeResponseChunk(ResultCode.SUCCESS, SignedBlockType.serialize(wanted))]);
    const { client, counters, actions, opened } = clientWith([first, later], budget);
    const roots = Array.from({ length: 16 }, (_, i) => new Uint8Array(32).fill(i + 1));
    const outstanding = client.blocksByRoot("peer-a", roots);
    assert.equal(budget.stats().inFlightBytes, 16 * MAX_VALID_SIGNED_BLOCK_SIZE);

    await assert.rejects(client.blocksByRange("peer-b", 9, 1), (err) =>
      isNetworkError(err, NetworkErrorCode.BUDGET_EXHAUSTED),
    );
    assert.equal(opened(), 1, "the refused request opened no stream");
    assert.equal(counters.get("reqresp_outbound_budget_refusals"), 1);
    assert.equal(budget.stats().refused, 1);
    assert.deepEqual(actions, [], "a local refusal is no peer's fault");

    respond();
    assert.deepEqual(await outstanding, [], "the peer had none of the roots");
    assert.equal(budget.stats().inFlightBytes, 0, "the reservation is returned when the exchange ends");
    const blocks = await client.blocksByRange("peer-b", 9, 1);
    assert.deepEqual(blocks.map(blockRoot), [blockRoot(wanted)]);
    assert.equal(budget.stats().inFlightBytes, 0);
    assert.equal(budget.stats().peakBytes, 16 * MAX_VALID_SIGNED_BLOCK_SIZE);
  });

  it("the default budget holds the node's own peak load many times over", () => {
    // 8 BlocksByRoot of 16 roots (the fetcher's caps) and one range-sync batch of 32 blocks.
    const peak = (8 * 16 + 32) * MAX_VALID_SIGNED_BLOCK_SIZE;
    assert.ok(MAX_INFLIGHT_RESPONSE_BYTES >= 16 * peak, `${MAX_INFLIGHT_RESPONSE_BYTES} vs ${peak}`);
  });
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { Uint8ArrayList } from "uint8arraylist";
import { MAX_FRAME_CHUNK_SIZE, MAX_PAYLOAD_SIZE } from "../src/encoding/limits.ts";
import { blockDeclaredLength, compressBlock, uncompressBlock } from "../src/encoding/snappyBlock.ts";
import {
  decodeSnappyFrames,
  encodeSnappyFrames,
  maskedCrc32c,
  SnappyFramesDecoder,
  STREAM_IDENTIFIER,
} from "../src/encoding/snappyFrames.ts";
import { decodeVarint, decodeVarintComplete, encodeVarint } from "../src/encoding/varint.ts";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";

const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
const ascii = (s: string) => new TextEncoder().encode(s);

function throwsCode(fn: () => unknown, code: NetworkErrorCode): void {
  assert.throws(fn, (err) => isNetworkError(err, code));
}

/** A mix of compressible and random bytes so both chunk types appear. */
function samplePayload(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const noise = randomBytes(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(i / 4096) % 2 === 0 ? i % 7 : (noise[i] as number);
  return out;
}

describe("varint", () => {
  it("encodes the LEB128 reference vectors", () => {
    assert.deepEqual(encodeVarint(0), hex("00"));
    assert.deepEqual(encodeVarint(127), hex("7f"));
    assert.deepEqual(encodeVarint(128), hex("8001"));
    assert.deepEqual(encodeVarint(300), hex("ac02"));
    assert.deepEqual(encodeVarint(MAX_PAYLOAD_SIZE), hex("80808005"));
  });

  it("round-trips up to 2^53 - 1", () => {
    for (const value of [0, 1, 127, 128, 16383, 16384, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const bytes = encodeVarint(value);
      assert.deepEqual(decodeVarint(bytes), { value, bytesRead: bytes.length });
    }
  });

  it("decodes at an offset and from a Uint8ArrayList split mid-varint", () => {
    assert.deepEqual(decodeVarint(hex("ffac02"), 1), { value: 300, bytesRead: 2 });
    const list = new Uint8ArrayList(hex("ac"), hex("02ff"));
    assert.deepEqual(decodeVarint(list), { value: 300, bytesRead: 2 });
  });

  it("reports truncation as 'need more' and as an error when input is complete", () => {
    assert.equal(decodeVarint(hex("ac")), null);
    assert.equal(decodeVarint(new Uint8Array(0)), null);
    throwsCode(() => decodeVarintComplete(hex("8080")), NetworkErrorCode.VARINT_TRUNCATED);
  });

  it("refuses over-long and over-large varints", () => {
    throwsCode(() => decodeVarint(hex("ffffffffffffffffffff01")), NetworkErrorCode.VARINT_OVERFLOW);
    throwsCode(() => decodeVarint(hex("ffffffffff01"), 0, 5), NetworkErrorCode.VARINT_OVERFLOW);
    // 2^56: fits in 9 bytes but not in a safe JS integer.
    throwsCode(() => decodeVarint(hex("808080808080808001")), NetworkErrorCode.VARINT_OVERFLOW);
    throwsCode(() => encodeVarint(-1), NetworkErrorCode.VARINT_OVERFLOW);
    throwsCode(() => encodeVarint(1.5), NetworkErrorCode.VARINT_OVERFLOW);
  });
});

describe("snappy framing", () => {
  it("masks CRC32C as the framing spec says", () => {
    // Independent reference: crc32c("hello") masked, computed outside this codebase.
    assert.equal(maskedCrc32c(ascii("hello")), 0x191c1fbb);
  });

  it("decodes a hand-built stream with an uncompressed and a compressed chunk", () => {
    // identifier ++ [0x01, len 9, crc("hello"), "hello"] ++ [0x00, len 11, crc("hello"), raw snappy "hello"]
    const stream = hex(
      `${Buffer.from(STREAM_IDENTIFIER).toString("hex")}` +
        "01090000bb1f1c1968656c6c6f" +
        "000b0000bb1f1c19051068656c6c6f",
    );
    assert.deepEqual(decodeSnappyFrames(stream, 10), ascii("hellohello"));
  });

  it("round-trips payloads across chunk boundaries", () => {
    for (const size of [0, 1, 100, MAX_FRAME_CHUNK_SIZE, MAX_FRAME_CHUNK_SIZE + 1, 200_000]) {
      const data = samplePayload(size);
      assert.deepEqual(decodeSnappyFrames(encodeSnappyFrames(data), size), data, `size ${size}`);
    }
  });

  it("encodes the empty payload as the bare stream identifier", () => {
    assert.deepEqual(encodeSnappyFrames(new Uint8Array(0)), STREAM_IDENTIFIER);
  });

  it("decodes byte by byte and leaves the bytes after the payload unread", () => {
    const data = samplePayload(150_000);
    const encoded = encodeSnappyFrames(data);
    const decoder = new SnappyFramesDecoder(data.length);
    const input = new Uint8ArrayList();
    let out: Uint8Array | null = null;
    const trailer = hex("00aabb");
    const wire = new Uint8Array([...encoded, ...trailer]);
    for (let i = 0; i < wire.length && out === null; i++) {
      input.append(wire.subarray(i, i + 1));
      out = decoder.decode(input);
    }
    assert.deepEqual(out, data);
    // The chunk boundary is at the end of `encoded`; the trailer arrives only after decoding ends.
    assert.equal(input.byteLength, 0);
    const fresh = new SnappyFramesDecoder(data.length);
    const all = new Uint8ArrayList(wire);
    assert.deepEqual(fresh.decode(all), data);
    assert.deepEqual(all.subarray(), trailer);
  });

  it("rejects a declared length over the cap before buffering anything", () => {
    throwsCode(() => new SnappyFramesDecoder(MAX_PAYLOAD_SIZE + 1), NetworkErrorCode.PAYLOAD_TOO_LARGE);
    throwsCode(() => new SnappyFramesDecoder(101, 100), NetworkErrorCode.PAYLOAD_TOO_LARGE);
  });

  it("rejects garbage on its first byte", () => {
    const decoder = new SnappyFramesDecoder(10);
    throwsCode(() => decoder.decode(new Uint8ArrayList(hex("00"))), NetworkErrorCode.SNAPPY_INVALID);
  });

  it("detects a corrupted checksum", () => {
    const encoded = encodeSnappyFrames(ascii("some payload bytes"));
    encoded[STREAM_IDENTIFIER.length + 4] ^= 0xff;
    throwsCode(() => decodeSnappyFrames(encoded, 18), NetworkErrorCode.SNAPPY_CRC_MISMATCH);
  });

  it("detects corrupted compressed data", () => {
    const data = new Uint8Array(1000).fill(7);
    const encoded = encodeSnappyFrames(data);
    assert.equal(encoded[STREAM_IDENTIFIER.length], 0x00, "compressible data uses a compressed chunk");
    encoded[encoded.length - 1] ^= 0x55;
    assert.throws(
      () => decodeSnappyFrames(encoded, data.length),
      (err) => isNetworkError(err),
    );
  });

  it("rejects payloads longer or shorter than declared, and truncated or trailing input", () => {
    const data = samplePayload(5000);
    const encoded = encodeSnappyFrames(data);
    throwsCode(() => decodeSnappyFrames(encoded, 4999), NetworkErrorCode.LENGTH_MISMATCH);
    throwsCode(() => decodeSnappyFrames(encoded, 5001), NetworkErrorCode.SNAPPY_INVALID);
    throwsCode(
      () => decodeSnappyFrames(encoded.subarray(0, encoded.length - 1), 5000),
      NetworkErrorCode.SNAPPY_INVALID,
    );
    throwsCode(() => decodeSnappyFrames(new Uint8Array([...encoded, 0]), 5000), NetworkErrorCode.SNAPPY_INVALID);
  });

  it("refuses reserved unskippable chunks and skips skippable ones", () => {
    const id = Buffer.from(STREAM_IDENTIFIER).toString("hex");
    throwsCode(() => decodeSnappyFrames(hex(`${id}02000000`), 1), NetworkErrorCode.SNAPPY_INVALID);
    const padded = hex(`${id}80030000aabbcc01090000bb1f1c1968656c6c6f`);
    assert.deepEqual(decodeSnappyFrames(padded, 5), ascii("hello"));
  });

  it("refuses oversized chunk headers without waiting for their body", () => {
    const id = Buffer.from(STREAM_IDENTIFIER).toString("hex");
    // Uncompressed chunk claiming 65536 + 5 bytes (one over the limit): refused from the header alone.
    const decoder = new SnappyFramesDecoder(MAX_PAYLOAD_SIZE);
    throwsCode(() => decoder.decode(new Uint8ArrayList(hex(`${id}01050001`))), NetworkErrorCode.SNAPPY_INVALID);
    // A padding chunk bigger than the whole stream's budget for a 5-byte payload.
    throwsCode(
      () => new SnappyFramesDecoder(5).decode(new Uint8ArrayList(hex(`${id}80ffffff`))),
      NetworkErrorCode.PAYLOAD_TOO_LARGE,
    );
    // Compressed chunk whose snappy preamble claims more than 64 KiB.
    const bomb = hex(`${id}00090000000000008080080000`);
    assert.throws(
      () => decodeSnappyFrames(bomb, MAX_PAYLOAD_SIZE),
      (err) => isNetworkError(err, NetworkErrorCode.SNAPPY_INVALID) && err.message.includes("131072"),
    );
  });
});

describe("snappy block (gossip)", () => {
  it("round-trips and exposes the declared length", () => {
    const data = samplePayload(70_000);
    const compressed = compressBlock(data);
    assert.equal(blockDeclaredLength(compressed), data.length);
    assert.deepEqual(uncompressBlock(compressed), data);
  });

  it("decodes a hand-built block", () => {
    assert.deepEqual(uncompressBlock(hex("051068656c6c6f")), ascii("hello"));
  });

  it("refuses an oversized declared length without decompressing", () => {
    const header = encodeVarint(MAX_PAYLOAD_SIZE + 1);
    throwsCode(() => uncompressBlock(new Uint8Array([...header, 0x00])), NetworkErrorCode.PAYLOAD_TOO_LARGE);
    throwsCode(() => uncompressBlock(compressBlock(new Uint8Array(200)), 100), NetworkErrorCode.PAYLOAD_TOO_LARGE);
  });

  it("turns corrupt input into SNAPPY_INVALID", () => {
    throwsCode(() => uncompressBlock(hex("0102030405")), NetworkErrorCode.SNAPPY_INVALID);
    throwsCode(() => uncompressBlock(new Uint8Array(0)), NetworkErrorCode.SNAPPY_INVALID);
    throwsCode(() => uncompressBlock(hex("ff")), NetworkErrorCode.SNAPPY_INVALID);
  });

  it("refuses to compress more than the payload cap", () => {
    throwsCode(() => compressBlock(new Uint8Array(MAX_PAYLOAD_SIZE + 1)), NetworkErrorCode.PAYLOAD_TOO_LARGE);
  });
});

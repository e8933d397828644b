// Snappy FRAMING format (google/snappy framing_format.txt), used by req/resp. The decoder is
// push-based and consumes only whole chunks from the front of a buffer, so the caller can feed it
// bytes as they arrive and whatever follows the payload (the next response chunk) stays unread.
import crc32c from "@chainsafe/fast-crc32c";
import { compressSync, uncompressSync } from "snappy";
import { Uint8ArrayList } from "uint8arraylist";
import { errorMessage, NetworkError, NetworkErrorCode } from "../errors.ts";
import { MAX_FRAME_CHUNK_SIZE, MAX_PAYLOAD_SIZE, maxCompressedLength } from "./limits.ts";
import { toUint8Array } from "./snappyBlock.ts";
import { decodeVarint } from "./varint.ts";

export const STREAM_IDENTIFIER = Uint8Array.of(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59);

const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_IDENTIFIER = 0xff;
const LAST_UNSKIPPABLE = 0x7f;
const HEADER_SIZE = 4;
const CRC_SIZE = 4;
const MAX_COMPRESSED_CHUNK_BODY = CRC_SIZE + maxCompressedLength(MAX_FRAME_CHUNK_SIZE);
const MAX_UNCOMPRESSED_CHUNK_BODY = CRC_SIZE + MAX_FRAME_CHUNK_SIZE;

export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c.calculate(data) >>> 0;
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + 0xa282ead8) >>> 0;
}

export function encodeSnappyFrames(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [STREAM_IDENTIFIER];
  for (let offset = 0; offset < data.length; offset += MAX_FRAME_CHUNK_SIZE) {
    const chunk = data.subarray(offset, Math.min(offset + MAX_FRAME_CHUNK_SIZE, data.length));
    const compressed = toUint8Array(compressSync(chunk));
    const useCompressed = compressed.length < chunk.length;
    const body = useCompressed ? compressed : chunk;
    const header = new Uint8Array(HEADER_SIZE + CRC_SIZE);
    const view = new DataView(header.buffer);
    const chunkLength = CRC_SIZE + body.length;
    header[0] = useCompressed ? CHUNK_COMPRESSED : CHUNK_UNCOMPRESSED;
    header[1] = chunkLength & 0xff;
    header[2] = (chunkLength >>> 8) & 0xff;
    header[3] = (chunkLength >>> 16) & 0xff;
    view.setUint32(HEADER_SIZE, maskedCrc32c(chunk), true);
    parts.push(header, body);
  }
  return concatBytes(parts);
}

/**
 * Upper bound on the framed bytes a conforming encoder needs for `n` payload bytes, with slack for a
 * few padding chunks. A peer that sends more is wasting our bandwidth and is cut off.
 */
export function maxFramedLength(n: number): number {
  const chunks = Math.max(1, Math.ceil(n / MAX_FRAME_CHUNK_SIZE));
  return STREAM_IDENTIFIER.length + chunks * (HEADER_SIZE + CRC_SIZE + 32) + n + Math.ceil(n / 6) + 1024;
}

export class SnappyFramesDecoder {
  readonly expectedLength: number;
  private readonly budget: number;
  private consumed = 0;
  private produced = 0;
  private identifierSeen = false;
  private readonly parts: Uint8Array[] = [];

  /** Throws PAYLOAD_TOO_LARGE at once when `expectedLength` exceeds `maxLength`: nothing is buffered. */
  constructor(expectedLength: number, maxLength = MAX_PAYLOAD_SIZE) {
    if (!Number.isSafeInteger(expectedLength) || expectedLength < 0 || expectedLength > maxLength) {
      throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `declared length ${expectedLength} > ${maxLength}`);
    }
    this.expectedLength = expectedLength;
    this.budget = maxFramedLength(expectedLength);
  }

  /**
   * Consumes whole chunks from the front of `input`. Returns the payload once `expectedLength`
   * bytes have been produced, or null when more input is needed. Throws NetworkError on any
   * malformed, oversized or corrupted input.
   */
  decode(input: Uint8ArrayList): Uint8Array | null {
    if (!this.identifierSeen) {
      if (!this.readIdentifier(input)) return null;
    }
    while (this.produced < this.expectedLength) {
      if (input.byteLength < HEADER_SIZE) return null;
      const type = input.get(0);
      const length = input.get(1) | (input.get(2) << 8) | (input.get(3) << 16);
      this.checkChunkHeader(type, length);
      if (input.byteLength < HEADER_SIZE + length) return null;
      const body = input.subarray(HEADER_SIZE, HEADER_SIZE + length);
      input.consume(HEADER_SIZE + length);
      this.consumed += HEADER_SIZE + length;
      this.processChunk(type, body);
    }
    return concatBytes(this.parts, this.expectedLength);
  }

  private readIdentifier(input: Uint8ArrayList): boolean {
    // Compare what has arrived so far so garbage is refused on its first byte.
    const available = Math.min(input.byteLength, STREAM_IDENTIFIER.length);
    for (let i = 0; i < available; i++) {
      if (input.get(i) !== STREAM_IDENTIFIER[i]) {
        throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, "missing snappy stream identifier");
      }
    }
    if (available < STREAM_IDENTIFIER.length) return false;
    input.consume(STREAM_IDENTIFIER.length);
    this.consumed += STREAM_IDENTIFIER.length;
    this.identifierSeen = true;
    return true;
  }

  private checkChunkHeader(type: number, length: number): void {
    if (this.consumed + HEADER_SIZE + length > this.budget) {
      throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, "framed stream exceeds its size budget");
    }
    if (type === CHUNK_STREAM_IDENTIFIER) {
      if (length !== STREAM_IDENTIFIER.length - HEADER_SIZE) {
        throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, `stream identifier chunk of length ${length}`);
      }
    } else if (type === CHUNK_COMPRESSED || type === CHUNK_UNCOMPRESSED) {
      const max = type === CHUNK_COMPRESSED ? MAX_COMPRESSED_CHUNK_BODY : MAX_UNCOMPRESSED_CHUNK_BODY;
      if (length < CRC_SIZE || length > max) {
        throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, `data chunk of length ${length}`);
      }
    } else if (type <= LAST_UNSKIPPABLE) {
      throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, `reserved unskippable chunk type ${type}`);
    }
  }

  private processChunk(type: number, body: Uint8Array): void {
    if (type === CHUNK_STREAM_IDENTIFIER) {
      for (let i = 0; i < body.length; i++) {
        if (body[i] !== STREAM_IDENTIFIER[HEADER_SIZE + i]) {
          throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, "corrupt stream identifier chunk");
        }
      }
      return;
    }
    if (type !== CHUNK_COMPRESSED && type !== CHUNK_UNCOMPRESSED) return; // skippable padding
    const storedCrc = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, true);
    const payload = body.subarray(CRC_SIZE);
    const remaining = this.expectedLength - this.produced;
    const data = type === CHUNK_COMPRESSED ? uncompressChunk(payload, remaining) : payload;
    if (data.length > remaining) {
      throw new NetworkError(NetworkErrorCode.LENGTH_MISMATCH, `payload exceeds declared ${this.expectedLength}`);
    }
    if (maskedCrc32c(data) !== storedCrc) {
      throw new NetworkError(NetworkErrorCode.SNAPPY_CRC_MISMATCH, "chunk checksum mismatch");
    }
    // Copy: `body` may be a view into a buffer the transport reuses.
    this.parts.push(data === payload ? data.slice() : data);
    this.produced += data.length;
  }
}

function uncompressChunk(payload: Uint8Array, remaining: number): Uint8Array {
  const preamble = decodeVarint(payload, 0, 5);
  if (preamble === null) throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, "truncated chunk preamble");
  if (preamble.value > MAX_FRAME_CHUNK_SIZE) {
    throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, `chunk decompresses to ${preamble.value} bytes`);
  }
  if (preamble.value > remaining) {
    throw new NetworkError(NetworkErrorCode.LENGTH_MISMATCH, "chunk exceeds the declared payload length");
  }
  let out: Uint8Array;
  try {
    out = toUint8Array(uncompressSync(payload));
  } catch (err) {
    throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, errorMessage(err));
  }
  if (out.length !== preamble.value) {
    throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, "chunk length differs from its preamble");
  }
  return out;
}

/** Decodes a complete framed payload held in memory; truncation or trailing bytes are errors. */
export function decodeSnappyFrames(
  bytes: Uint8Array,
  expectedLength: number,
  maxLength = MAX_PAYLOAD_SIZE,
): Uint8Array {
  const decoder = new SnappyFramesDecoder(expectedLength, maxLength);
  const input = new Uint8ArrayList(bytes);
  const out = decoder.decode(input);
  if (out === null) throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, "framed payload is truncated");
  if (input.byteLength !== 0) {
    throw new NetworkError(NetworkErrorCode.SNAPPY_INVALID, `${input.byteLength} trailing bytes after payload`);
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[], totalLength?: number): Uint8Array {
  const total = totalLength ?? parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

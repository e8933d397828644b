// Req/resp wire format (PROTOCOL.md section 5):
//   request        = varint(ssz length) ++ snappy_frames(ssz)
//   response chunk = result byte ++ varint(ssz length) ++ snappy_frames(ssz)

import { MAX_PAYLOAD_SIZE } from "../encoding/limits.ts";
import { concatBytes, encodeSnappyFrames, SnappyFramesDecoder } from "../encoding/snappyFrames.ts";
import { decodeVarint, encodeVarint, MAX_VARINT_BYTES } from "../encoding/varint.ts";
import { NetworkError, NetworkErrorCode } from "../errors.ts";
import { MAX_ERROR_MESSAGE_SIZE, ResultCode } from "./protocols.ts";
import type { StreamReader } from "./streamReader.ts";

export function encodeFramedPayload(ssz: Uint8Array): Uint8Array {
  if (ssz.length > MAX_PAYLOAD_SIZE) {
    throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `${ssz.length} > ${MAX_PAYLOAD_SIZE}`);
  }
  return concatBytes([encodeVarint(ssz.length), encodeSnappyFrames(ssz)]);
}

export function encodeRequest(ssz: Uint8Array): Uint8Array {
  return encodeFramedPayload(ssz);
}

export function encodeResponseChunk(code: number, ssz: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(code), encodeFramedPayload(ssz)]);
}

export function encodeErrorChunk(code: number, message: string): Uint8Array {
  const text = new TextEncoder().encode(message).subarray(0, MAX_ERROR_MESSAGE_SIZE);
  return encodeResponseChunk(code, text);
}

/** Reads a varint length prefix from the stream. */
export async function readVarint(reader: StreamReader): Promise<number> {
  for (;;) {
    const read = decodeVarint(reader.buffer, 0, MAX_VARINT_BYTES);
    if (read !== null) {
      reader.buffer.consume(read.bytesRead);
      return read.value;
    }
    if (!(await reader.pull())) {
      throw new NetworkError(NetworkErrorCode.STREAM_ENDED, "stream ended inside a length prefix");
    }
  }
}

/**
 * Reads varint(length) ++ snappy frames. `check` sees the declared length first and may throw, so
 * an oversized or impossible length is refused before a single payload byte is read.
 */
export async function readFramedPayload(
  reader: StreamReader,
  maxLength: number,
  check?: (declared: number) => void,
): Promise<Uint8Array> {
  const declared = await readVarint(reader);
  if (declared > maxLength) {
    throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `declared length ${declared} > ${maxLength}`);
  }
  check?.(declared);
  const decoder = new SnappyFramesDecoder(declared, maxLength);
  for (;;) {
    const out = decoder.decode(reader.buffer);
    if (out !== null) return out;
    if (!(await reader.pull())) {
      throw new NetworkError(NetworkErrorCode.STREAM_ENDED, "stream ended inside a snappy-framed payload");
    }
  }
}

export type ResponseChunk = { code: number; payload: Uint8Array };

/**
 * Reads one response chunk, or returns null when the stream ends cleanly between chunks. Error
 * chunks (code != 0) carry a message of at most MAX_ERROR_MESSAGE_SIZE bytes.
 */
export async function readResponseChunk(reader: StreamReader, maxLength: number): Promise<ResponseChunk | null> {
  if (!(await reader.hasMore())) return null;
  const code = reader.buffer.get(0);
  reader.buffer.consume(1);
  const limit = code === ResultCode.SUCCESS ? maxLength : MAX_ERROR_MESSAGE_SIZE;
  const payload = await readFramedPayload(reader, limit);
  return { code, payload };
}

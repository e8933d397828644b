// Size limits shared by gossip and req/resp (PROTOCOL.md section 5).

/** Largest uncompressed SSZ payload accepted anywhere on the wire: 10 MiB. */
export const MAX_PAYLOAD_SIZE = 10 * 1024 * 1024;

/** Snappy framing: a data chunk never holds more than 64 KiB of uncompressed bytes. */
export const MAX_FRAME_CHUNK_SIZE = 65536;

/** Worst-case size of a snappy block for `n` input bytes (the bound the reference encoder guarantees). */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

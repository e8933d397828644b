// Key layout of the node database. One byte of prefix per bucket keeps every bucket a contiguous,
// ordered range; slots are 8-byte big-endian so lexicographic order is numeric order.

export const Bucket = {
  /** root -> SignedBlock SSZ (every imported block, finalized or not) */
  block: 0x01,
  /** slot ++ root -> empty: blocks by slot, for restart replay and pruning */
  blockSlot: 0x02,
  /** slot -> root: the finalized canonical chain */
  finalizedRoot: 0x03,
  /** root -> State SSZ: post-states kept as anchors (the latest finalized one) */
  state: 0x04,
  /** name -> value: chain identity and the fork-choice anchor */
  meta: 0x05,
} as const;

/** Names under Bucket.meta. */
export const META_FORK_DIGEST = "fork_digest";
export const META_ANCHOR = "anchor";
/** The oldest block the store must keep (genesis, or the checkpoint-sync anchor). */
export const META_BASE = "base";

export function slotBytes(slot: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(slot));
  return out;
}

export function readSlot(bytes: Uint8Array, offset = 0): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset + offset, 8).getBigUint64(0));
}

export function key(bucket: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((n, p) => n + p.length, 1);
  const out = new Uint8Array(length);
  out[0] = bucket;
  let offset = 1;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function metaKey(name: string): Uint8Array {
  return key(Bucket.meta, new TextEncoder().encode(name));
}

/** [start, end) bounds of one bucket for range scans. */
export function bucketRange(bucket: number, from?: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: from ? key(bucket, from) : Uint8Array.of(bucket), lt: Uint8Array.of(bucket + 1) };
}

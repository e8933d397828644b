// A stored block's slot and parent root read straight from its SSZ bytes, without decoding the
// body: the start-up check and the finality walk read thousands of blocks.
import { rootKey } from "@metronome/chain";
import { DatabaseError } from "./dbErrors.ts";

/** SignedBlock's fixed part: the Block offset (4) and the signature (96). */
const SIGNED_BLOCK_FIXED_BYTES = 100;
/** Block bytes up to the end of parentRoot: slot (8) ++ proposerIndex (8) ++ parentRoot (32). */
const BLOCK_LINKS_END = 48;

/**
 * SignedBlock = offset(4) ++ signature(96) ++ Block; Block = slot(8, LE) ++ proposerIndex(8) ++
 * parentRoot(32) ++ ... Malformed bytes are a DatabaseError naming the store at `path`.
 */
export function blockLinks(
  bytes: Uint8Array,
  root: Uint8Array,
  path: string,
): { slot: number; parentRoot: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = bytes.byteLength >= 4 ? view.getUint32(0, true) : -1;
  if (offset !== SIGNED_BLOCK_FIXED_BYTES || bytes.byteLength < offset + BLOCK_LINKS_END) {
    throw new DatabaseError(`database at ${path} is corrupt: block ${rootKey(root)} is malformed`);
  }
  const slot = view.getBigUint64(offset, true);
  if (slot > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DatabaseError(`database at ${path} is corrupt: block ${rootKey(root)} has slot ${slot}`);
  }
  return { slot: Number(slot), parentRoot: Uint8Array.from(bytes.subarray(offset + 16, offset + 48)) };
}

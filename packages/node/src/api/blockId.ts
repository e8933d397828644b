// The {block_id} of /eth/v1/beacon/headers: a name, a 0x root, or a slot read exactly as a uint64.
import { ApiError, fitsChain, readUint64, Uint64Error } from "@metronome/api";
import { fromHex } from "@metronome/chain";
import type { BlockIdQuery } from "./backend.ts";

/** A slot-shaped id: digits only (readUint64 then bounds its length and value). */
const SLOT_ID = /^\d+$/;

export function parseBlockId(id: string): BlockIdQuery {
  if (id === "head" || id === "finalized" || id === "justified" || id === "genesis") return { kind: id };
  if (SLOT_ID.test(id)) {
    let slot: bigint;
    try {
      slot = readUint64(id);
    } catch (err) {
      if (!(err instanceof Uint64Error)) throw err;
      throw new ApiError(400, `Invalid block ID: ${err.message}`);
    }
    // A valid slot past what the chain holds (2^53 - 1) has no block: not found, not a bad request.
    if (!fitsChain(slot)) throw new ApiError(404, `Block not found: no block at slot ${slot}, past 2^53 - 1`);
    return { kind: "slot", slot: Number(slot) };
  }
  if (/^0x[0-9a-fA-F]{64}$/.test(id)) return { kind: "root", root: fromHex(id) };
  throw new ApiError(400, `Invalid block ID: ${id.slice(0, 80)}`);
}

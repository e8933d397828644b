import { ApiError } from "@metronome/api";
import { fromHex } from "@metronome/chain";
import type { BlockIdQuery } from "./backend.ts";

export function parseBlockId(id: string): BlockIdQuery {
  if (id === "head" || id === "finalized" || id === "justified" || id === "genesis") return { kind: id };
  if (/^\d{1,15}$/.test(id)) return { kind: "slot", slot: Number(id) };
  if (/^0x[0-9a-fA-F]{64}$/.test(id)) return { kind: "root", root: fromHex(id) };
  throw new ApiError(400, `Invalid block ID: ${id.slice(0, 80)}`);
}

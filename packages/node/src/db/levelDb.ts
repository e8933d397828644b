// The LevelDB handle the store's modules share, and one operation of a write batch.
import type { ClassicLevel } from "classic-level";

export type Db = ClassicLevel<Uint8Array, Uint8Array>;
export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

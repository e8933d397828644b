// The database's one error type and how it describes what went wrong (LevelDB errors, stored bytes
// that do not decode).
import { decode } from "@metronome/chain";

export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

export function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // LevelDB's own reason (e.g. a missing MANIFEST) hides in the cause.
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e.message}${cause}`;
}

/** Stored SSZ bytes decoded, or a DatabaseError saying the store at `path` is corrupt. */
export function decodeOrCorrupt<T>(
  type: Parameters<typeof decode<T>>[0],
  bytes: Uint8Array,
  what: string,
  path: string,
): T {
  try {
    // A plain Uint8Array view: decoded roots stay Uint8Array, not Buffer.
    return decode(type, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new DatabaseError(`database at ${path} is corrupt: cannot decode ${what}: ${describe(e)}`);
  }
}

// Strict SSZ-JSON decoding for the HTTP API, shared by the node's routes and the validator client:
// @chainsafe/ssz's fromJson accepts more than the canonical form (negative or fractional integers,
// non-hex digits, unknown fields), so every decoded value is re-encoded and compared to its input.
import { ApiError } from "./errors.ts";

const UINT_JSON = /^-?\d+$/;

/**
 * Whether `input` is exactly the JSON `canonical` came from. Catches what @chainsafe/ssz's fromJson
 * lets through: negative or fractional integers, non-hex digits in bytes, unknown fields.
 */
function sameJson(input: unknown, canonical: unknown, path: string): string | null {
  if (typeof canonical === "string") {
    if (UINT_JSON.test(canonical)) {
      // uint64 fields are JS numbers here: 2^64-1 decodes to Infinity and re-encodes to the same
      // text, so anything above 2^53 is refused by value rather than rounded or clipped.
      if (typeof input === "string" && /^\d+$/.test(input) && BigInt(input) > BigInt(Number.MAX_SAFE_INTEGER)) {
        return `${path}: ${input.slice(0, 24)} is above 2^53 - 1, the largest value this node represents exactly`;
      }
      const ok =
        (typeof input === "string" && /^\d+$/.test(input) && BigInt(input) === BigInt(canonical)) ||
        (typeof input === "number" && Number.isSafeInteger(input) && input >= 0 && String(input) === canonical);
      return ok ? null : `${path}: expected an unsigned integer`;
    }
    return typeof input === "string" && input.toLowerCase() === canonical.toLowerCase()
      ? null
      : `${path}: expected 0x-prefixed hex`;
  }
  if (Array.isArray(canonical)) {
    if (!Array.isArray(input) || input.length !== canonical.length) return `${path}: malformed list`;
    for (let i = 0; i < canonical.length; i++) {
      const err = sameJson(input[i], canonical[i], `${path}[${i}]`);
      if (err !== null) return err;
    }
    return null;
  }
  if (typeof canonical === "object" && canonical !== null) {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return `${path}: expected an object`;
    const record = input as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!(key in canonical)) return `${path}.${key}: unknown field`;
    for (const [key, value] of Object.entries(canonical)) {
      const err = sameJson(record[key], value, `${path}.${key}`);
      if (err !== null) return err;
    }
    return null;
  }
  return input === canonical ? null : `${path}: unexpected value`;
}

interface JsonType<T> {
  fromJson(json: unknown): T;
  toJson(value: T): unknown;
}

/** Strict SSZ-JSON decoding: anything fromJson would bend into shape is a 400 instead. */
export function parseSszJson<T>(type: JsonType<T>, json: unknown, what: string): T {
  let value: T;
  try {
    value = type.fromJson(json);
  } catch (err) {
    throw new ApiError(400, `Invalid ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const mismatch = sameJson(json, type.toJson(value), what);
  if (mismatch !== null) throw new ApiError(400, `Invalid ${mismatch}`);
  return value;
}

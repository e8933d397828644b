// Query parameters of the validator routes. A uint64 is read exactly (a bigint, up to 2^64 - 1), so
// a route can answer any value by its meaning (in the future, an unknown validator) and only narrows
// to the chain's number where the value enters the chain.
import { ApiError, readUint64, toChainUint, Uint64Error } from "@metronome/api";

/** The last value of a repeated parameter; a 400 when it is missing or empty. */
export function queryString(raw: unknown, name: string): string {
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof value !== "string" || value.length === 0) throw new ApiError(400, `Missing query parameter: ${name}`);
  return value;
}

function rethrowAsBadRequest(err: unknown, name: string): never {
  if (err instanceof Uint64Error) throw new ApiError(400, `Invalid ${name}: ${err.message}`);
  throw err;
}

/** A uint64 parameter, exact. */
export function queryUint64(raw: unknown, name: string): bigint {
  const text = queryString(raw, name);
  try {
    return readUint64(text);
  } catch (err) {
    rethrowAsBadRequest(err, name);
  }
}

/** A uint64 parameter the chain must hold: a 400 naming the limit when it is above 2^53 - 1. */
export function queryChainUint(raw: unknown, name: string): number {
  const value = queryUint64(raw, name);
  try {
    return toChainUint(value);
  } catch (err) {
    rethrowAsBadRequest(err, name);
  }
}

/** `indices=1,2` or `indices=1&indices=2`; sorted, duplicates dropped, each below `validatorCount`. */
export function parseIndices(raw: unknown, validatorCount: number): number[] {
  const parts = (Array.isArray(raw) ? raw : [raw])
    .filter((p): p is string => typeof p === "string")
    .flatMap((p) => p.split(","))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new ApiError(400, "Missing query parameter: indices");
  const out = new Set<number>();
  for (const part of parts) {
    let index: bigint;
    try {
      index = readUint64(part);
    } catch (err) {
      if (!(err instanceof Uint64Error)) throw err;
      throw new ApiError(400, `Invalid validator index ${part.slice(0, 32)}: ${err.message}`);
    }
    if (index >= BigInt(validatorCount)) {
      throw new ApiError(400, `Unknown validator index ${index}: the registry has ${validatorCount} validators`);
    }
    out.add(Number(index));
  }
  return [...out].sort((a, b) => a - b);
}

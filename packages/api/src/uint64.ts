// uint64 as it travels in JSON and query strings, read exactly. The Beacon-API form is a decimal
// string; it is read into a bigint, never through a JS number (JSON.parse has already rounded a
// bare number above 2^53 before anyone could check it, so a bare JSON number is not read as a
// uint64 here). The chain holds slots and indices as JS numbers: a value enters it through
// toChainUint, which refuses what a number cannot hold with an error naming the limit.

/** The largest uint64: 2^64 - 1. */
export const UINT64_MAX = 2n ** 64n - 1n;
/** The largest value the chain holds exactly (in a JS number): 2^53 - 1. */
export const CHAIN_UINT_MAX = Number.MAX_SAFE_INTEGER;
/**
 * Decimal text longer than this is refused unread. 2^64 - 1 has 20 digits; a few leading zeros are
 * tolerated, and BigInt's parse, superlinear in the length, never sees a megabyte of digits.
 */
export const MAX_UINT64_TEXT_CHARS = 32;
/** Characters of a refused text quoted back in an error. */
const QUOTED_TEXT_CHARS = 24;

const CHAIN_UINT_MAX_BIG = BigInt(CHAIN_UINT_MAX);
const DECIMAL_DIGITS = /^\d+$/;

/** Why a value is not a uint64 or does not fit the chain; the message says which, without a path. */
export class Uint64Error extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "Uint64Error";
  }
}

function quoted(text: string): string {
  return text.length > QUOTED_TEXT_CHARS ? `${text.slice(0, QUOTED_TEXT_CHARS)}...` : text;
}

/** `raw` as an exact uint64: a string of decimal digits at most 2^64 - 1; anything else throws. */
export function readUint64(raw: unknown): bigint {
  if (typeof raw === "number") {
    // Not the number's value: JSON.parse may have rounded it already (above 2^53 - 1).
    throw new Uint64Error("expected an unsigned integer as a decimal string, not a JSON number");
  }
  if (typeof raw !== "string" || !DECIMAL_DIGITS.test(raw)) {
    throw new Uint64Error("expected an unsigned integer as a decimal string");
  }
  if (raw.length > MAX_UINT64_TEXT_CHARS) throw new Uint64Error(`${quoted(raw)} is above 2^64 - 1`);
  const value = BigInt(raw);
  if (value > UINT64_MAX) throw new Uint64Error(`${raw} is above 2^64 - 1`);
  return value;
}

/** Whether the chain can hold `value` in a JS number. */
export function fitsChain(value: bigint): boolean {
  return value <= CHAIN_UINT_MAX_BIG;
}

/** `value` as the chain's number, or a Uint64Error naming the limit (never a rounded number). */
export function toChainUint(value: bigint): number {
  if (!fitsChain(value)) {
    throw new Uint64Error(`${value} is above 2^53 - 1 (${CHAIN_UINT_MAX}), the largest value this node's chain holds`);
  }
  return Number(value);
}

/** Decimal digits this many or fewer are below 10^15 < 2^53: Number reads them exactly. */
const EXACT_AS_NUMBER_DIGITS = 15;

/** readUint64, then toChainUint: a decimal string the chain can hold, as a number. */
export function readChainUint(raw: unknown): number {
  if (typeof raw === "string" && raw.length <= EXACT_AS_NUMBER_DIGITS && DECIMAL_DIGITS.test(raw)) return Number(raw);
  return toChainUint(readUint64(raw));
}

/**
 * A plain JSON number that is a uint the chain holds (the lean routes' form: health, fork choice).
 * Only a safe integer is taken: anything past 2^53 - 1 was rounded by JSON.parse already.
 */
export function readPlainUint(raw: unknown): number {
  if (typeof raw !== "number" || !Number.isSafeInteger(raw) || raw < 0) {
    throw new Uint64Error(`expected a non-negative safe integer, got ${quoted(String(raw))}`);
  }
  return raw;
}

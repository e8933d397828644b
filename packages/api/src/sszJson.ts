// Strict SSZ-JSON decoding for the HTTP API, shared by the node's routes and the validator client.
// It walks the SSZ type: a container has exactly its fields, a list at most its limit, a uint64 is
// a decimal string read exactly (uint64.ts; never a JSON number, which JSON.parse may already have
// rounded), and bytes and bits are the canonical 0x-hex @chainsafe/ssz writes (its own fromJson
// accepts more: non-hex digits, unknown fields, negative or fractional integers).
// parseExactSszJson keeps every uint64 exact (a bigint, for the exact twin types); parseSszJson
// hands the chain its JS numbers and refuses, naming the field, a value above 2^53 - 1.
import {
  BitArrayType,
  BooleanType,
  ByteArrayType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  type Type,
  VectorBasicType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import { ApiError } from "./errors.ts";
import { type Exact, isChainUint64 } from "./exactSsz.ts";
import { readUint64, toChainUint, Uint64Error } from "./uint64.ts";

/** What becomes of an exact uint64 at `path`: kept as a bigint, or narrowed to the chain's number. */
type Uint64Leaf = (value: bigint, path: string) => unknown;

function invalid(path: string, reason: string): ApiError {
  return new ApiError(400, `Invalid ${path}: ${reason}`);
}

function isPlainObject(json: unknown): json is Record<string, unknown> {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

const jsonKeySets = new WeakMap<ContainerType<Record<string, Type<unknown>>>, ReadonlySet<string>>();

function jsonKeysOf(type: ContainerType<Record<string, Type<unknown>>>): ReadonlySet<string> {
  let keys = jsonKeySets.get(type);
  if (keys === undefined) {
    keys = new Set(type.fieldsEntries.map((e) => e.jsonKey));
    jsonKeySets.set(type, keys);
  }
  return keys;
}

function decodeContainer(
  type: ContainerType<Record<string, Type<unknown>>>,
  json: unknown,
  path: string,
  leaf: Uint64Leaf,
): Record<string, unknown> {
  if (!isPlainObject(json)) throw invalid(path, "expected an object");
  const keys = jsonKeysOf(type);
  for (const key of Object.keys(json))
    if (!keys.has(key)) throw invalid(`${path}.${key.slice(0, 64)}`, "unknown field");
  const value: Record<string, unknown> = {};
  for (const { fieldName, fieldType, jsonKey } of type.fieldsEntries) {
    const at = `${path}.${jsonKey}`;
    if (!Object.hasOwn(json, jsonKey)) throw invalid(at, "missing field");
    value[fieldName] = decode(fieldType, json[jsonKey], at, leaf);
  }
  return value;
}

function decodeArray(
  elementType: Type<unknown>,
  json: unknown,
  path: string,
  leaf: Uint64Leaf,
  length: { max: number } | { exactly: number },
): unknown[] {
  if (!Array.isArray(json)) throw invalid(path, "expected a list");
  if ("max" in length && json.length > length.max) throw invalid(path, `more than ${length.max} items`);
  if ("exactly" in length && json.length !== length.exactly) throw invalid(path, `expected ${length.exactly} items`);
  return json.map((item, i) => decode(elementType, item, `${path}[${i}]`, leaf));
}

function leafExpectation(type: Type<unknown>): string {
  if (type instanceof ByteArrayType) {
    return type.fixedSize === null ? "expected 0x-prefixed hex" : `expected 0x-prefixed hex of ${type.fixedSize} bytes`;
  }
  if (type instanceof BitArrayType) return "expected 0x-prefixed hex of an SSZ bitfield";
  if (type instanceof BooleanType) return "expected true or false";
  return "unexpected value";
}

/** Whether `input` is the canonical JSON of a leaf (hex compared without regard to case). */
function sameLeaf(input: unknown, canonical: unknown): boolean {
  if (typeof canonical === "string")
    return typeof input === "string" && input.toLowerCase() === canonical.toLowerCase();
  return input === canonical;
}

/** Bytes, bits, booleans: the library's decoding, held to the canonical form it writes back. */
function decodeLeaf(type: Type<unknown>, json: unknown, path: string): unknown {
  let value: unknown;
  try {
    value = type.fromJson(json);
  } catch {
    throw invalid(path, leafExpectation(type));
  }
  if (!sameLeaf(json, type.toJson(value))) throw invalid(path, leafExpectation(type));
  return value;
}

function decode(type: Type<unknown>, json: unknown, path: string, leaf: Uint64Leaf): unknown {
  if (isChainUint64(type)) {
    let value: bigint;
    try {
      value = readUint64(json);
    } catch (err) {
      throw invalid(path, err instanceof Error ? err.message : String(err));
    }
    return leaf(value, path);
  }
  if (type instanceof ContainerType) return decodeContainer(type, json, path, leaf);
  if (type instanceof ListCompositeType || type instanceof ListBasicType) {
    return decodeArray(type.elementType, json, path, leaf, { max: type.limit });
  }
  if (type instanceof VectorCompositeType || type instanceof VectorBasicType) {
    return decodeArray(type.elementType, json, path, leaf, { exactly: type.length });
  }
  return decodeLeaf(type, json, path);
}

const keepExact: Uint64Leaf = (value) => value;

const narrowToChain: Uint64Leaf = (value, path) => {
  try {
    return toChainUint(value);
  } catch (err) {
    if (err instanceof Uint64Error) throw invalid(path, err.message);
    throw err;
  }
};

/**
 * Strict SSZ-JSON decoding into the exact form: every uint64 a bigint, up to 2^64 - 1 (encode and
 * hash it with exactType(type)). Anything not in canonical form is an ApiError(400) naming the field
 * as `what.field[i]...`.
 */
export function parseExactSszJson<T>(type: Type<T>, json: unknown, what: string): Exact<T> {
  return decode(type, json, what, keepExact) as Exact<T>;
}

/**
 * Strict SSZ-JSON decoding into the chain's value: as parseExactSszJson, and a uint64 above 2^53 - 1
 * (which the chain's numbers cannot hold) is an ApiError(400) naming the field and the limit.
 */
export function parseSszJson<T>(type: Type<T>, json: unknown, what: string): T {
  return decode(type, json, what, narrowToChain) as T;
}

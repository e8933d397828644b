// The exact twin of an SSZ type: the same containers, field names, JSON keys and serialization,
// with every uint64 a bigint instead of the chain's JS number. A value the chain cannot hold (above
// 2^53 - 1) still has a twin value, so JSON -> twin -> SSZ bytes -> twin -> JSON gives back the very
// text it was given, up to 2^64 - 1. The node and the validator client use the chain's own types;
// the twins are the wire form for whoever must carry any uint64 (tools, tests, parseExactSszJson).
import {
  type BasicType,
  type BitArray,
  BitArrayType,
  BooleanType,
  ByteArrayType,
  type CompositeType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  type Type,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import { readUint64 } from "./uint64.ts";

/** Bytes of a uint64. */
const UINT64_BYTES = 8;

/** A chain value with every uint64 (a JS number there) as a bigint. */
export type Exact<T> = T extends number
  ? bigint
  : T extends Uint8Array | BitArray | boolean
    ? T
    : T extends readonly (infer E)[]
      ? Exact<E>[]
      : T extends object
        ? { [K in keyof T]: Exact<T[K]> }
        : T;

/** uint64 as a bigint whose JSON is read strictly: a decimal string up to 2^64 - 1, nothing else. */
export class ExactUint64Type extends UintBigintType {
  constructor() {
    super(UINT64_BYTES, { typeName: "uint64" });
  }

  override fromJson(json: unknown): bigint {
    return readUint64(json);
  }
}

/** Whether `type` is the chain's uint64: a JS number, exact only up to 2^53 - 1. */
export function isChainUint64(type: Type<unknown>): type is UintNumberType {
  return type instanceof UintNumberType && type.byteLength === UINT64_BYTES;
}

const EXACT_UINT64 = new ExactUint64Type();
const twins = new WeakMap<Type<unknown>, Type<unknown>>();

/** Types whose values hold no uint64 (bytes, bits, booleans, narrower uints): their own twins. */
function holdsNoUint64(type: Type<unknown>): boolean {
  return (
    type instanceof ByteArrayType ||
    type instanceof BitArrayType ||
    type instanceof BooleanType ||
    (type instanceof UintNumberType && !isChainUint64(type)) ||
    type instanceof UintBigintType
  );
}

function buildTwin(type: Type<unknown>): Type<unknown> {
  if (isChainUint64(type)) return EXACT_UINT64;
  if (holdsNoUint64(type)) return type;
  if (type instanceof ContainerType) {
    const fields = type.fields as Record<string, Type<unknown>>;
    const twinFields = Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, twinOf(field)]));
    const same = Object.keys(fields).every((name) => twinFields[name] === fields[name]);
    return same ? type : new ContainerType(twinFields, type.opts as ConstructorParameters<typeof ContainerType>[1]);
  }
  if (
    type instanceof ListCompositeType ||
    type instanceof ListBasicType ||
    type instanceof VectorCompositeType ||
    type instanceof VectorBasicType
  ) {
    const element = twinOf(type.elementType);
    if (element === type.elementType) return type;
    const opts = { typeName: `Exact${type.typeName}` };
    // A twin is of its original's kind: composite elements have composite twins, basic ones basic.
    const composite = element as CompositeType<unknown, unknown, unknown>;
    const basic = element as BasicType<unknown>;
    if (type instanceof ListCompositeType) return new ListCompositeType(composite, type.limit, opts);
    if (type instanceof ListBasicType) return new ListBasicType(basic, type.limit, opts);
    if (type instanceof VectorCompositeType) return new VectorCompositeType(composite, type.length, opts);
    return new VectorBasicType(basic, type.length, opts);
  }
  throw new TypeError(`exactType: SSZ type ${type.typeName} is not supported`);
}

function twinOf(type: Type<unknown>): Type<unknown> {
  let twin = twins.get(type);
  if (twin === undefined) {
    twin = buildTwin(type);
    twins.set(type, twin);
  }
  return twin;
}

/** The exact twin of `type` (built once per type): same SSZ bytes and root, uint64 as bigint. */
export function exactType<T>(type: Type<T>): Type<Exact<T>> {
  return twinOf(type) as Type<Exact<T>>;
}

// What one HTTP route is, for both sides: its method and path, how a client puts a request on the
// wire, and the response's JSON codec (the server encodes with it, the client decodes with it).
// The definitions themselves are in routes.ts.
import { readChainUint, readPlainUint } from "../uint64.ts";

export type HttpMethod = "GET" | "POST";

export interface Route<Req, Res> {
  /** Short name for errors and logs ("attestation data"). */
  readonly name: string;
  readonly method: HttpMethod;
  /** The path as the server registers it (Fastify syntax: `:param`). */
  readonly path: string;
  /** Path and query string of one request. */
  readonly url: (req: Req) => string;
  /** JSON body of one request (POST routes). */
  readonly body?: (req: Req) => unknown;
  /** Statuses besides 2xx that still carry this route's response (health answers 503 with its report). */
  readonly answerStatuses?: readonly number[];
  /** Server side: the response value as JSON. */
  readonly encode: (res: Res) => unknown;
  /** Client side: the JSON back to the value; throws an Error saying what is malformed. */
  readonly decode: (json: unknown) => Res;
}

/** A route definition, typed by its request and response (an identity that lets TypeScript infer both). */
export function defineRoute<Req, Res>(route: Route<Req, Res>): Route<Req, Res> {
  return route;
}

/** `json` as an object, or an Error naming `what`. */
export function objectField(json: unknown, what: string): Record<string, unknown> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`${what} is not an object`);
  return json as Record<string, unknown>;
}

/**
 * A Beacon-API uint64 (a decimal string), read exactly and handed over as the chain's number: a
 * value above 2^53 - 1 is an Error naming it, never a rounded number.
 */
export function uintField(raw: unknown, what: string): number {
  try {
    return readChainUint(raw);
  } catch (err) {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A lean route's plain JSON number (health, fork choice): a non-negative safe integer. */
export function plainUintField(raw: unknown, what: string): number {
  try {
    return readPlainUint(raw);
  } catch (err) {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** 0x-hex of exactly `bytes` bytes. */
export function hexField(raw: unknown, bytes: number, what: string): Uint8Array {
  if (typeof raw !== "string" || raw.length !== 2 + bytes * 2 || !/^0x[0-9a-fA-F]*$/.test(raw)) {
    throw new Error(`${what} is not ${bytes} bytes of 0x-hex`);
  }
  return new Uint8Array(Buffer.from(raw.slice(2), "hex"));
}

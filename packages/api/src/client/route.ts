// What one HTTP route is, for both sides: its method and path, how a client puts a request on the
// wire, and the response's JSON codec (the server encodes with it, the client decodes with it).
// The definitions themselves are in routes.ts.

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

/** A decimal integer written as a JSON string or number, non-negative and safe. */
export function uintField(raw: unknown, what: string): number {
  const value = typeof raw === "string" && /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${what} is not a non-negative integer`);
  }
  return value;
}

/** 0x-hex of exactly `bytes` bytes. */
export function hexField(raw: unknown, bytes: number, what: string): Uint8Array {
  if (typeof raw !== "string" || raw.length !== 2 + bytes * 2 || !/^0x[0-9a-fA-F]*$/.test(raw)) {
    throw new Error(`${what} is not ${bytes} bytes of 0x-hex`);
  }
  return new Uint8Array(Buffer.from(raw.slice(2), "hex"));
}

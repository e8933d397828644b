// Inbound req/resp: rate-limit, read and decode the request, ask the node's handler, stream the
// response chunks, close. Every failure becomes a result code or a counted drop; nothing throws.
import {
  BlocksByRangeRequest,
  BlocksByRootRequest,
  MAX_REQUEST_BLOCKS,
  SignedBlock,
  Status,
  tryDecode,
} from "@metronome/chain";
import { MAX_PAYLOAD_SIZE } from "../encoding/limits.ts";
import { errorMessage, isNetworkError, NetworkError, NetworkErrorCode } from "../errors.ts";
import type { NetworkCounters, ReqRespOutcome } from "../stats.ts";
import { REQUEST_SSZ_BOUNDS, RESPONSE_TIMEOUT_MS, type ReqRespMethod, ResultCode } from "./protocols.ts";
import { type BucketConfig, TokenBucketLimiter } from "./rateLimiter.ts";
import { Deadline, type ReqRespStream, writeChunk } from "./stream.ts";
import { StreamReader } from "./streamReader.ts";
import { encodeErrorChunk, encodeResponseChunk, readFramedPayload } from "./wire.ts";

type MaybePromise<T> = T | Promise<T>;

/** What the node answers with. Unknown roots and empty slots are simply left out of the result. */
export interface ReqRespHandlers {
  /** Our own Status, sent in reply to a peer's Status and with our own Status requests. */
  status(): MaybePromise<Status>;
  blocksByRoot(roots: Uint8Array[], peer: string): MaybePromise<readonly SignedBlock[]>;
  blocksByRange(startSlot: number, count: number, peer: string): MaybePromise<readonly SignedBlock[]>;
  /** Told the Status a peer sent with its Status request (sync uses peers' Status). */
  onPeerStatus?(peer: string, status: Status): void;
}

export type RateLimits = Record<ReqRespMethod, BucketConfig>;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  status: { capacity: 8, refillPerSecond: 1 },
  blocksByRoot: { capacity: 64, refillPerSecond: 16 },
  blocksByRange: { capacity: 16, refillPerSecond: 2 },
};

export type ReqRespServerOptions = {
  counters: NetworkCounters;
  /** Time allowed to read the request, and separately to produce and write the response. */
  timeoutMs?: number;
  rateLimits?: Partial<RateLimits>;
  /** Cap on peers tracked per rate limiter. */
  maxTrackedPeers?: number;
  /**
   * Told of each request refused for the peer's fault (rate limit hit, malformed request).
   * `endedEarly`: the request stream ended before a whole request arrived, which a connection
   * closing under the exchange also does (the host waits to see, deferredPenalties.ts).
   */
  onPeerAction?: (peer: string, action: ServerPeerAction, endedEarly: boolean) => void;
};

/** A peer's misbehaviour seen by the server, for the peer score (peerScores.ts). */
export type ServerPeerAction = "rate_limited" | "invalid_request";

/** A request refused with a result code and message. */
class RequestRefused extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export class ReqRespServer {
  private handlers: Partial<ReqRespHandlers> = {};
  private readonly counters: NetworkCounters;
  private readonly timeoutMs: number;
  private readonly limiters: Record<ReqRespMethod, TokenBucketLimiter>;
  private readonly onPeerAction: (peer: string, action: ServerPeerAction, endedEarly: boolean) => void;

  constructor(options: ReqRespServerOptions) {
    this.counters = options.counters;
    this.onPeerAction = options.onPeerAction ?? (() => {});
    this.timeoutMs = options.timeoutMs ?? RESPONSE_TIMEOUT_MS;
    const limits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    const maxPeers = options.maxTrackedPeers ?? 4096;
    this.limiters = {
      status: new TokenBucketLimiter(limits.status, maxPeers),
      blocksByRoot: new TokenBucketLimiter(limits.blocksByRoot, maxPeers),
      blocksByRange: new TokenBucketLimiter(limits.blocksByRange, maxPeers),
    };
  }

  setHandlers(handlers: Partial<ReqRespHandlers>): void {
    this.handlers = { ...handlers };
  }

  getHandlers(): Partial<ReqRespHandlers> {
    return this.handlers;
  }

  /** Serves one inbound stream to completion. Never throws. */
  async handle(method: ReqRespMethod, stream: ReqRespStream, peer: string): Promise<void> {
    this.counters.inc("reqresp_inbound_requests");
    const ended = { early: false };
    const outcome = await this.serve(method, stream, peer, ended);
    this.counters.labelled.reqresp(method, "inbound", outcome);
    if (outcome === "rate_limited" || outcome === "invalid_request") {
      try {
        this.onPeerAction(peer, outcome, ended.early);
      } catch {
        // The score keeper's bug must not fail the stream handler.
      }
    }
  }

  /** `ended.early` is set when the request stream ended before a whole request was read. */
  private async serve(
    method: ReqRespMethod,
    stream: ReqRespStream,
    peer: string,
    ended: { early: boolean },
  ): Promise<ReqRespOutcome> {
    try {
      if (!this.limiters[method].tryTake(peer)) {
        this.counters.inc("reqresp_rate_limited");
        await this.refuse(stream, ResultCode.RESOURCE_UNAVAILABLE, "rate limited");
        return "rate_limited";
      }
      const request = await this.readRequest(method, stream, ended);
      if (!(request instanceof Uint8Array)) return request.outcome;
      return await this.respond(method, request, stream, peer);
    } catch (err) {
      // Only transport failures reach here (peer reset the stream, write after close, ...).
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      return "error";
    }
  }

  /** Returns the request's SSZ bytes, or how a bad request ended (answered or aborted). */
  private async readRequest(
    method: ReqRespMethod,
    stream: ReqRespStream,
    ended: { early: boolean },
  ): Promise<Uint8Array | { outcome: ReqRespOutcome }> {
    const reader = new StreamReader(stream);
    const deadline = new Deadline(this.timeoutMs, () => {
      stream.abort(new NetworkError(NetworkErrorCode.TIMEOUT, "request not received in time"));
    });
    const bounds = REQUEST_SSZ_BOUNDS[method];
    try {
      return await readFramedPayload(reader, MAX_PAYLOAD_SIZE, (declared) => {
        if (declared < bounds.min || declared > bounds.max) {
          throw new NetworkError(
            NetworkErrorCode.INVALID_REQUEST,
            `declared length ${declared} outside [${bounds.min}, ${bounds.max}]`,
          );
        }
      });
    } catch (err) {
      if (deadline.expired) {
        this.counters.inc("reqresp_inbound_timeouts");
        return { outcome: "timeout" };
      }
      if (!isNetworkError(err)) throw err;
      ended.early = isNetworkError(err, NetworkErrorCode.STREAM_ENDED);
      this.counters.inc("reqresp_invalid_requests");
      await this.refuse(stream, ResultCode.INVALID_REQUEST, err.message);
      return { outcome: "invalid_request" };
    } finally {
      deadline.clear();
      await reader.release().catch(() => {});
    }
  }

  private async respond(
    method: ReqRespMethod,
    ssz: Uint8Array,
    stream: ReqRespStream,
    peer: string,
  ): Promise<ReqRespOutcome> {
    let payloads: Uint8Array[];
    const produceDeadline = new Deadline(this.timeoutMs);
    try {
      payloads = await raceDeadline(this.produce(method, ssz, peer), produceDeadline);
    } catch (err) {
      const refused =
        err instanceof RequestRefused ? err : new RequestRefused(ResultCode.SERVER_ERROR, errorMessage(err));
      this.counters.inc(
        refused.code === ResultCode.INVALID_REQUEST ? "reqresp_invalid_requests" : "reqresp_server_errors",
      );
      await this.refuse(stream, refused.code, refused.message);
      return refused.code === ResultCode.INVALID_REQUEST ? "invalid_request" : "server_error";
    } finally {
      produceDeadline.clear();
    }
    // A peer that stops reading must not pin the stream open: abort when the write deadline passes.
    const writeDeadline = new Deadline(this.timeoutMs, () => {
      stream.abort(new NetworkError(NetworkErrorCode.TIMEOUT, "response not flushed in time"));
    });
    try {
      for (const payload of payloads) {
        await writeChunk(stream, encodeResponseChunk(ResultCode.SUCCESS, payload), writeDeadline.signal);
      }
      await stream.close({ signal: writeDeadline.signal });
      return "success";
    } catch (err) {
      if (!writeDeadline.expired) throw err;
      this.counters.inc("reqresp_inbound_timeouts");
      return "timeout";
    } finally {
      writeDeadline.clear();
    }
  }

  /** Decodes the request and returns the SSZ payloads of the response chunks, in order. */
  private async produce(method: ReqRespMethod, ssz: Uint8Array, peer: string): Promise<Uint8Array[]> {
    const handlers = this.handlers;
    switch (method) {
      case "status": {
        const request = tryDecode(Status, ssz);
        if (!request.ok) throw new RequestRefused(ResultCode.INVALID_REQUEST, "invalid Status");
        if (handlers.status === undefined) throw new RequestRefused(ResultCode.SERVER_ERROR, "status not available");
        safely(() => handlers.onPeerStatus?.(peer, request.value));
        const ours = await callHandler(() => handlers.status?.() as MaybePromise<Status>);
        return [serialize(() => Status.serialize(ours))];
      }
      case "blocksByRoot": {
        const request = tryDecode(BlocksByRootRequest, ssz);
        if (!request.ok) throw new RequestRefused(ResultCode.INVALID_REQUEST, "invalid BlocksByRootRequest");
        const roots = request.value.roots;
        if (roots.length > MAX_REQUEST_BLOCKS) {
          throw new RequestRefused(ResultCode.INVALID_REQUEST, `more than ${MAX_REQUEST_BLOCKS} roots`);
        }
        const lookup = handlers.blocksByRoot;
        if (lookup === undefined) throw new RequestRefused(ResultCode.SERVER_ERROR, "block lookup not available");
        const blocks = await callHandler(() => lookup(roots, peer));
        return blocks.slice(0, roots.length).map((b) => serialize(() => SignedBlock.serialize(b)));
      }
      case "blocksByRange": {
        const request = tryDecode(BlocksByRangeRequest, ssz);
        if (!request.ok) throw new RequestRefused(ResultCode.INVALID_REQUEST, "invalid BlocksByRangeRequest");
        const { startSlot, count } = request.value;
        if (count === 0 || count > MAX_REQUEST_BLOCKS) {
          throw new RequestRefused(ResultCode.INVALID_REQUEST, `count must be in [1, ${MAX_REQUEST_BLOCKS}]`);
        }
        if (!Number.isSafeInteger(startSlot + count)) {
          throw new RequestRefused(ResultCode.INVALID_REQUEST, "slot range out of bounds");
        }
        const lookup = handlers.blocksByRange;
        if (lookup === undefined) throw new RequestRefused(ResultCode.SERVER_ERROR, "block lookup not available");
        const blocks = await callHandler(() => lookup(startSlot, count, peer));
        return blocks.slice(0, count).map((b) => serialize(() => SignedBlock.serialize(b)));
      }
    }
  }

  /** Sends one error chunk and closes; a peer that already went away is not our problem. */
  private async refuse(stream: ReqRespStream, code: number, message: string): Promise<void> {
    const deadline = new Deadline(this.timeoutMs, () => stream.abort(new Error("error response not flushed")));
    try {
      await writeChunk(stream, encodeErrorChunk(code, message), deadline.signal);
      await stream.close({ signal: deadline.signal });
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      deadline.clear();
    }
  }
}

async function callHandler<T>(fn: () => MaybePromise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RequestRefused(ResultCode.SERVER_ERROR, `server error: ${errorMessage(err)}`);
  }
}

function serialize(fn: () => Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fn();
  } catch (err) {
    throw new RequestRefused(ResultCode.SERVER_ERROR, `cannot serialize response: ${errorMessage(err)}`);
  }
  if (bytes.length > MAX_PAYLOAD_SIZE) throw new RequestRefused(ResultCode.SERVER_ERROR, "response chunk too large");
  return bytes;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener's bug must not fail the peer's request.
  }
}

function raceDeadline<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
  if (deadline.expired) return Promise.reject(new NetworkError(NetworkErrorCode.TIMEOUT, "deadline passed"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new NetworkError(NetworkErrorCode.TIMEOUT, "handler did not finish in time"));
    deadline.signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        deadline.signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        deadline.signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

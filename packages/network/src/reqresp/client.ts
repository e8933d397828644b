// Outbound req/resp. One deadline covers the whole exchange (open, send, every chunk); a peer's
// error chunk, a malformed or unasked-for response, and the deadline each map to a NetworkError.
import {
  Block,
  BlocksByRangeRequest,
  BlocksByRootRequest,
  MAX_REQUEST_BLOCKS,
  MAX_VALID_SIGNED_BLOCK_SIZE,
  rootKey,
  SignedBlock,
  Status,
  tryDecode,
} from "@metronome/chain";
import { MAX_PAYLOAD_SIZE } from "../encoding/limits.ts";
import { errorMessage, isNetworkError, NetworkError, NetworkErrorCode } from "../errors.ts";
import type { NetworkCounters, ReqRespOutcome } from "../stats.ts";
import {
  methodOfProtocol,
  RESPONSE_TIMEOUT_MS,
  ReqRespProtocol,
  type ReqRespProtocolId,
  ResultCode,
} from "./protocols.ts";
import { ResponseBudget } from "./responseBudget.ts";
import { Deadline, type ReqRespStream, writeChunk } from "./stream.ts";
import { StreamReader } from "./streamReader.ts";
import { encodeRequest, type ResponseChunk, readResponseChunk } from "./wire.ts";

/**
 * Total bytes (uncompressed, as declared) one response may bring, whatever it answers. The largest
 * valid typed response is 1024 blocks of at most 5,380 bytes (5.5 MB); a typed request is held to
 * its own count x the largest valid chunk, which is far less (a range-sync batch of 32: 172 KB).
 * This bounds what requestRaw may read. Checked on each chunk's declared length, before its bytes
 * are read.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * The response bytes all outstanding requests together may reserve (ResponseBudget). The node's
 * own peak is 8 BlocksByRoot of 16 roots and one range batch of 32 blocks, under 1 MB; 16 MiB is
 * 18 times that, and two worst-case responses, while no number of requests can make the network
 * thread hold more.
 */
export const MAX_INFLIGHT_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * The largest single chunk each protocol can validly carry: a Status; a block this node could
 * import (MAX_VALID_SIGNED_BLOCK_SIZE, 5,380 bytes, not the type's 2.6 MB maxSize: a bigger one
 * can only be rejected, after ~160 MB of allocation to decode and hash it).
 */
export const MAX_RESPONSE_CHUNK_BYTES = {
  status: Status.maxSize,
  block: Math.min(MAX_VALID_SIGNED_BLOCK_SIZE, MAX_PAYLOAD_SIZE),
} as const;

/** A peer's misbehaviour seen by the client, for the peer score (peerScores.ts). */
export type ClientPeerAction = "malformed_response" | "oversized_response";

type ResponseLimits = { maxChunks: number; maxChunkBytes: number; maxTotalBytes: number };

/** Opens a stream to `peer` for `protocol`; rejects if the dial or negotiation fails. */
export type StreamOpener = (peer: string, protocol: string, signal: AbortSignal) => Promise<ReqRespStream>;

export type ReqRespClientOptions = {
  counters: NetworkCounters;
  timeoutMs?: number;
  /** Default MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  /** Shared by every exchange of this client. Default: a budget of MAX_INFLIGHT_RESPONSE_BYTES. */
  responseBudget?: ResponseBudget;
  /**
   * Told of each response that was malformed or over its byte cap (the exchange is aborted).
   * `detail`: what was wrong with the response, for the ban's log line. `endedEarly`: the stream
   * ended with no answer at all, which a connection closing under the exchange also does (the host
   * waits to see, deferredPenalties.ts).
   */
  onPeerAction?: (peer: string, action: ClientPeerAction, detail: string, endedEarly: boolean) => void;
};

export class ReqRespClient {
  private readonly open: StreamOpener;
  private readonly counters: NetworkCounters;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  readonly responseBudget: ResponseBudget;
  private readonly onPeerAction: (peer: string, action: ClientPeerAction, detail: string, endedEarly: boolean) => void;

  constructor(open: StreamOpener, options: ReqRespClientOptions) {
    this.open = open;
    this.counters = options.counters;
    this.timeoutMs = options.timeoutMs ?? RESPONSE_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.responseBudget = options.responseBudget ?? new ResponseBudget(MAX_INFLIGHT_RESPONSE_BYTES);
    this.onPeerAction = options.onPeerAction ?? (() => {});
  }

  async status(peer: string, ours: Status): Promise<Status> {
    const [only] = await this.request(
      peer,
      ReqRespProtocol.status,
      Status.serialize(ours),
      1,
      MAX_RESPONSE_CHUNK_BYTES.status,
      (chunk) => {
        const status = tryDecode(Status, chunk);
        if (!status.ok) throw this.invalid(status.error.message);
        return status.value;
      },
    );
    if (only === undefined) {
      this.onPeerAction(peer, "malformed_response", "empty Status response", true);
      throw this.invalid("empty Status response");
    }
    return only;
  }

  /** Blocks the peer has among `roots`; unknown roots are simply absent from the result. */
  async blocksByRoot(peer: string, roots: readonly Uint8Array[]): Promise<SignedBlock[]> {
    if (roots.length > MAX_REQUEST_BLOCKS) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `at most ${MAX_REQUEST_BLOCKS} roots per request`);
    }
    if (roots.length === 0) return [];
    const request = BlocksByRootRequest.serialize({ roots: [...roots] });
    const wanted = new Set(roots.map(rootKey));
    const seen = new Set<string>();
    return this.request(
      peer,
      ReqRespProtocol.blocksByRoot,
      request,
      roots.length,
      MAX_RESPONSE_CHUNK_BYTES.block,
      (chunk) => {
        const block = this.decodeBlock(chunk);
        const key = rootKey(Block.hashTreeRoot(block.block));
        if (!wanted.has(key) || seen.has(key)) throw this.invalid(`unrequested or repeated block ${key}`);
        seen.add(key);
        return block;
      },
    );
  }

  /** Blocks in slots [startSlot, startSlot + count), ascending; empty slots are absent. */
  async blocksByRange(peer: string, startSlot: number, count: number): Promise<SignedBlock[]> {
    if (!Number.isSafeInteger(startSlot) || startSlot < 0 || !Number.isSafeInteger(count) || count < 1) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, "startSlot must be >= 0 and count >= 1");
    }
    if (count > MAX_REQUEST_BLOCKS) {
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `at most ${MAX_REQUEST_BLOCKS} blocks per request`);
    }
    const request = BlocksByRangeRequest.serialize({ startSlot, count });
    let previousSlot = startSlot - 1;
    return this.request(
      peer,
      ReqRespProtocol.blocksByRange,
      request,
      count,
      MAX_RESPONSE_CHUNK_BYTES.block,
      (chunk) => {
        const block = this.decodeBlock(chunk);
        const slot = block.block.slot;
        if (slot <= previousSlot || slot >= startSlot + count) throw this.invalid(`block at slot ${slot} out of range`);
        previousSlot = slot;
        return block;
      },
    );
  }

  /**
   * Sends `requestBytes` exactly as given and returns every response chunk, error chunks included,
   * without interpreting them. For tests and tooling; the typed methods above are for the node.
   */
  async requestRaw(
    peer: string,
    protocol: string,
    requestBytes: Uint8Array,
    maxChunks: number,
  ): Promise<ResponseChunk[]> {
    return this.exchange(peer, protocol, requestBytes, this.limits(maxChunks, MAX_PAYLOAD_SIZE), false, (c) => c);
  }

  /**
   * Sends an SSZ request and decodes each success chunk as it arrives (a bad one aborts the
   * exchange before the next is read); an error chunk throws.
   */
  private async request<T>(
    peer: string,
    protocol: ReqRespProtocolId,
    ssz: Uint8Array,
    maxChunks: number,
    maxChunkBytes: number,
    decode: (payload: Uint8Array) => T,
  ): Promise<T[]> {
    const limits = this.limits(maxChunks, maxChunkBytes);
    return this.exchange(peer, protocol, encodeRequest(ssz), limits, true, (chunk) => decode(chunk.payload));
  }

  /** A response cannot validly exceed its chunk count times the largest valid chunk. */
  private limits(maxChunks: number, maxChunkBytes: number): ResponseLimits {
    return { maxChunks, maxChunkBytes, maxTotalBytes: Math.min(this.maxResponseBytes, maxChunks * maxChunkBytes) };
  }

  private async exchange<T>(
    peer: string,
    protocol: string,
    requestBytes: Uint8Array,
    limits: ResponseLimits,
    failOnErrorChunk: boolean,
    accept: (chunk: ResponseChunk) => T,
  ): Promise<T[]> {
    // Refused before anything is sent when its worst case does not fit in the shared budget: the
    // caller sees a local failure (no peer is blamed) and may ask again once responses are in.
    const reservation = this.responseBudget.tryReserve(limits.maxTotalBytes);
    if (reservation === null) {
      this.counters.inc("reqresp_outbound_budget_refusals");
      const { inFlightBytes, capacityBytes } = this.responseBudget.stats();
      throw new NetworkError(
        NetworkErrorCode.BUDGET_EXHAUSTED,
        `response budget spent: ${inFlightBytes} + ${limits.maxTotalBytes} > ${capacityBytes} bytes`,
      );
    }
    this.counters.inc("reqresp_outbound_requests");
    let stream: ReqRespStream | undefined;
    const deadline = new Deadline(this.timeoutMs, () => {
      stream?.abort(new NetworkError(NetworkErrorCode.TIMEOUT, "response timeout"));
    });
    try {
      stream = await this.open(peer, protocol, deadline.signal);
      if (deadline.expired) throw new NetworkError(NetworkErrorCode.TIMEOUT, "stream opened after the deadline");
      await writeChunk(stream, requestBytes, deadline.signal);
      await stream.close({ signal: deadline.signal });
      const reader = new StreamReader(stream);
      const values: T[] = [];
      let received = 0;
      for (;;) {
        // A chunk past the count asked for is refused on its first byte, unread.
        if (values.length >= limits.maxChunks) {
          if (await reader.hasMore()) throw this.invalid(`more than ${limits.maxChunks} response chunks`);
          break;
        }
        // The declared length is checked against what is left of the budget before any byte of
        // the chunk is read: an oversized answer is cut off, not buffered.
        const room = limits.maxTotalBytes - received;
        const chunk = await readResponseChunk(reader, Math.max(0, Math.min(limits.maxChunkBytes, room)));
        if (chunk === null) break;
        received += chunk.payload.length;
        if (failOnErrorChunk && chunk.code !== ResultCode.SUCCESS) {
          const message = new TextDecoder().decode(chunk.payload);
          throw new NetworkError(NetworkErrorCode.PEER_ERROR, `peer answered ${chunk.code}: ${message}`, chunk.code);
        }
        values.push(accept(chunk));
      }
      this.countOutbound(protocol, "success");
      return values;
    } catch (err) {
      const failure = this.classify(err, deadline.expired);
      if (isNetworkError(err, NetworkErrorCode.PAYLOAD_TOO_LARGE)) {
        this.counters.inc("reqresp_outbound_oversized_responses");
        this.onPeerAction(peer, "oversized_response", `${protocol}: ${failure.message}`, false);
      } else if (failure.code === NetworkErrorCode.INVALID_RESPONSE) {
        this.onPeerAction(peer, "malformed_response", `${protocol}: ${failure.message}`, false);
      }
      stream?.abort(failure);
      this.countOutbound(protocol, outcomeOf(failure));
      throw failure;
    } finally {
      deadline.clear();
      reservation.release();
    }
  }

  private countOutbound(protocol: string, outcome: ReqRespOutcome): void {
    const method = methodOfProtocol(protocol);
    if (method !== null) this.counters.labelled.reqresp(method, "outbound", outcome);
  }

  private classify(err: unknown, timedOut: boolean): NetworkError {
    if (timedOut) {
      this.counters.inc("reqresp_outbound_timeouts");
      return new NetworkError(NetworkErrorCode.TIMEOUT, `no complete response within ${this.timeoutMs} ms`);
    }
    if (!isNetworkError(err)) {
      this.counters.inc("reqresp_outbound_failures");
      return new NetworkError(NetworkErrorCode.DIAL_FAILED, errorMessage(err));
    }
    switch (err.code) {
      case NetworkErrorCode.PEER_ERROR:
        this.counters.inc("reqresp_outbound_peer_errors");
        return err;
      case NetworkErrorCode.INVALID_RESPONSE:
        return err; // counted where it was raised
      case NetworkErrorCode.DIAL_FAILED:
      case NetworkErrorCode.STREAM_ENDED:
      case NetworkErrorCode.NOT_STARTED:
        this.counters.inc("reqresp_outbound_failures");
        return err;
      default:
        // Wire-level decode failures: the peer sent bytes we cannot accept.
        return this.invalid(err.message);
    }
  }

  private decodeBlock(bytes: Uint8Array): SignedBlock {
    const result = tryDecode(SignedBlock, bytes);
    if (!result.ok) throw this.invalid(result.error.message);
    return result.value;
  }

  /** Builds (and counts) an INVALID_RESPONSE error. */
  private invalid(message: string): NetworkError {
    this.counters.inc("reqresp_outbound_invalid_responses");
    return new NetworkError(NetworkErrorCode.INVALID_RESPONSE, message);
  }
}

/** The metrics' result label for a failed outbound exchange; a peer's error chunk keeps its code. */
function outcomeOf(failure: NetworkError): ReqRespOutcome {
  if (failure.code === NetworkErrorCode.TIMEOUT) return "timeout";
  if (failure.code !== NetworkErrorCode.PEER_ERROR) return "error";
  switch (failure.resultCode) {
    case ResultCode.INVALID_REQUEST:
      return "invalid_request";
    case ResultCode.SERVER_ERROR:
      return "server_error";
    case ResultCode.RESOURCE_UNAVAILABLE:
      return "resource_unavailable";
    default:
      return "error";
  }
}

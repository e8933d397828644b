// Req/resp protocol ids and result codes (PROTOCOL.md section 5).
import { MAX_REQUEST_BLOCKS } from "@metronome/chain";

export const ReqRespProtocol = {
  status: "/leanconsensus/req/status/1/ssz_snappy",
  blocksByRoot: "/leanconsensus/req/blocks_by_root/1/ssz_snappy",
  blocksByRange: "/leanconsensus/req/blocks_by_range/1/ssz_snappy",
} as const;
export type ReqRespMethod = keyof typeof ReqRespProtocol;
export type ReqRespProtocolId = (typeof ReqRespProtocol)[ReqRespMethod];

export const REQRESP_METHODS: readonly ReqRespMethod[] = ["status", "blocksByRoot", "blocksByRange"];

export function methodOfProtocol(protocol: string): ReqRespMethod | null {
  for (const method of REQRESP_METHODS) if (ReqRespProtocol[method] === protocol) return method;
  return null;
}

export const ResultCode = {
  SUCCESS: 0,
  INVALID_REQUEST: 1,
  SERVER_ERROR: 2,
  RESOURCE_UNAVAILABLE: 3,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

/** Error payloads are SSZ List[byte, 256] of UTF-8 text, as in the Ethereum p2p spec and leanSpec. */
export const MAX_ERROR_MESSAGE_SIZE = 256;

/** Exact or bounded SSZ sizes of each request, checked against the declared length before decoding. */
export const REQUEST_SSZ_BOUNDS: Readonly<Record<ReqRespMethod, { min: number; max: number }>> = {
  status: { min: 80, max: 80 },
  blocksByRoot: { min: 4, max: 4 + 32 * MAX_REQUEST_BLOCKS },
  blocksByRange: { min: 16, max: 16 },
};

/** Default total time for one request: open, send, and every response chunk. */
export const RESPONSE_TIMEOUT_MS = 10_000;

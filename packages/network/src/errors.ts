// One error class for the whole package. Every decode or transport failure carries a code so callers
// can count and branch on it; nothing here throws a bare Error or RangeError at a peer's bytes.

export const NetworkErrorCode = {
  VARINT_TRUNCATED: "VARINT_TRUNCATED",
  VARINT_OVERFLOW: "VARINT_OVERFLOW",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  SNAPPY_INVALID: "SNAPPY_INVALID",
  SNAPPY_CRC_MISMATCH: "SNAPPY_CRC_MISMATCH",
  LENGTH_MISMATCH: "LENGTH_MISMATCH",
  SSZ_INVALID: "SSZ_INVALID",
  STREAM_ENDED: "STREAM_ENDED",
  TIMEOUT: "TIMEOUT",
  INVALID_REQUEST: "INVALID_REQUEST",
  INVALID_RESPONSE: "INVALID_RESPONSE",
  PEER_ERROR: "PEER_ERROR",
  DIAL_FAILED: "DIAL_FAILED",
  NOT_STARTED: "NOT_STARTED",
  /** A local refusal: the outbound request's response would not fit in the shared byte budget. */
  BUDGET_EXHAUSTED: "BUDGET_EXHAUSTED",
} as const;
export type NetworkErrorCode = (typeof NetworkErrorCode)[keyof typeof NetworkErrorCode];

export class NetworkError extends Error {
  readonly code: NetworkErrorCode;
  /** Req/resp result code sent by the peer, set only for PEER_ERROR. */
  readonly resultCode: number | undefined;

  constructor(code: NetworkErrorCode, message: string, resultCode?: number) {
    super(`${code}: ${message}`);
    this.name = "NetworkError";
    this.code = code;
    this.resultCode = resultCode;
  }
}

export function isNetworkError(err: unknown, code?: NetworkErrorCode): err is NetworkError {
  return err instanceof NetworkError && (code === undefined || err.code === code);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

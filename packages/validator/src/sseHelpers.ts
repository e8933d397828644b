// Pure helpers of the SSE stream (sseStream.ts): option checks, the reconnect backoff, and the
// description of a fetch failure.

export function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** fetch() wraps network errors as "fetch failed" with the useful part in `cause`. */
export function causeOf(err: unknown): unknown {
  if (err instanceof Error && err.cause !== undefined) return err.cause;
  return err;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** A backoff with both bounds positive and the maximum no lower than the start. */
export function checkedBackoff(backoff: { initialMs: number; maxMs: number }): { initialMs: number; maxMs: number } {
  return {
    initialMs: positive(backoff.initialMs, "backoff.initialMs"),
    maxMs: Math.max(positive(backoff.maxMs, "backoff.maxMs"), backoff.initialMs),
  };
}

/**
 * The delay before the next reconnect after `failedAttempts` in a row: full jitter (`random` in
 * [0, 1)) under an exponential cap, floored at half the initial delay.
 */
export function jitteredBackoffMs(
  failedAttempts: number,
  backoff: { initialMs: number; maxMs: number },
  random: number,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const cap = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(exponent, 30));
  return Math.max(backoff.initialMs / 2, Math.floor(random * cap));
}

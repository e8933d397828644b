// The block fetcher's bookkeeping of wanted roots as pure functions: which roots are due for a
// request (parents first), when retries may go again, and the checks on its options.
import type { WantReason } from "./blockFetcherTypes.ts";

export const ROOT_LENGTH = 32;

/** One root the fetcher is after. */
export interface WantedRoot {
  root: Uint8Array;
  key: string;
  reason: WantReason;
  attempts: number;
  nextAttemptAt: number;
  /** Id of the request currently asking for this root, or 0. */
  requestId: number;
}

export function rootHex(root: Uint8Array): string {
  // Same "0x…" form as @metronome/chain's rootKey, so keys agree across modules.
  return `0x${Buffer.from(root.buffer, root.byteOffset, root.byteLength).toString("hex")}`;
}

export function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`);
  return value;
}

export function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be >= 0: ${value}`);
  return value;
}

/** Whether any root waits for a request and its backoff has passed. */
export function hasDueRoot(wanted: ReadonlyMap<string, WantedRoot>, now: number): boolean {
  for (const entry of wanted.values()) {
    if (entry.requestId === 0 && entry.nextAttemptAt <= now) return true;
  }
  return false;
}

/**
 * Up to `limit` due roots, parents first, each group oldest first (`wanted` is insertion-ordered),
 * and the earliest time a later tick needs to look again (0: at once).
 */
export function collectDue(
  wanted: ReadonlyMap<string, WantedRoot>,
  now: number,
  limit: number,
): { due: WantedRoot[]; nextDueAt: number } {
  const parents: WantedRoot[] = [];
  const others: WantedRoot[] = [];
  let earliestWaiting = Number.POSITIVE_INFINITY;
  let dueSeen = 0;
  for (const entry of wanted.values()) {
    if (entry.requestId !== 0) continue;
    if (entry.nextAttemptAt > now) {
      if (entry.nextAttemptAt < earliestWaiting) earliestWaiting = entry.nextAttemptAt;
      continue;
    }
    dueSeen++;
    if (entry.reason === "unknown_parent") parents.push(entry);
    else if (others.length < limit) others.push(entry);
    if (parents.length >= limit) break;
  }
  // Roots left behind by the limit stay due, so only a scan that took every due root may let
  // the following ticks skip ahead to the earliest backoff expiry.
  const nextDueAt = dueSeen <= limit && parents.length < limit ? earliestWaiting : 0;
  return { due: parents.concat(others).slice(0, limit), nextDueAt };
}

/** Exponential in attempts, capped; "equal jitter" (`random` in [0, 1)) keeps it in [delay/2, delay). */
export function equalJitterBackoff(attempts: number, baseMs: number, maxMs: number, random: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 30));
  return delay / 2 + (delay / 2) * random;
}

// Pure parts of the head monitor: the node list check, the events URL, and the head and
// chain_reorg event payloads (Beacon API JSON; anything else is a MalformedEventError, which the
// stream counts and skips).
import { readChainUint } from "@metronome/api";
import type { ReorgUpdate } from "./headMonitorTypes.ts";
import { MalformedEventError } from "./sseStream.ts";

export const HEAD_EVENTS_PATH = "/eth/v1/events?topics=head,chain_reorg";
/** Beacon nodes one monitor follows at most (one stream each). */
export const MAX_MONITORED_NODES = 64;

/** Validates and de-duplicates a node list (order kept). */
export function checkUrls(urls: readonly string[]): string[] {
  if (!Array.isArray(urls) || urls.length === 0) throw new TypeError("at least one beacon node URL is required");
  const unique = [...new Set(urls)];
  if (unique.length > MAX_MONITORED_NODES)
    throw new RangeError(`at most ${MAX_MONITORED_NODES} beacon nodes, got ${unique.length}`);
  for (const url of unique) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`invalid beacon node URL: ${String(url).slice(0, 200)}`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new TypeError(`beacon node URL must be http(s): ${url.slice(0, 200)}`);
  }
  return unique;
}

/** The events URL of a base URL, keeping any path prefix (e.g. behind a reverse proxy). */
export function eventsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${HEAD_EVENTS_PATH}`;
}

function parseObject(data: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new MalformedEventError(`invalid JSON: ${data.slice(0, 80)}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new MalformedEventError("event data is not a JSON object");
  return json as Record<string, unknown>;
}

/** Beacon API integers are decimal strings: read exactly; above 2^53 - 1 is malformed, never rounded. */
function parseUint(value: unknown, field: string): number {
  try {
    return readChainUint(value);
  } catch (err) {
    throw new MalformedEventError(`${field}: ${errorText(err)}`);
  }
}

function parseRoot(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value))
    throw new MalformedEventError(`${field} is not a 32-byte 0x hex root: ${JSON.stringify(value)?.slice(0, 80)}`);
  return value.toLowerCase();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A head event's slot and (lowercase) block root. */
export function parseHeadEvent(data: string): { slot: number; root: string } {
  const json = parseObject(data);
  return { slot: parseUint(json.slot, "slot"), root: parseRoot(json.block, "block") };
}

/** A chain_reorg event from `url`. */
export function parseReorgEvent(url: string, data: string): ReorgUpdate {
  const json = parseObject(data);
  return {
    url,
    slot: parseUint(json.slot, "slot"),
    depth: parseUint(json.depth, "depth"),
    oldHead: parseRoot(json.old_head_block, "old_head_block"),
    newHead: parseRoot(json.new_head_block, "new_head_block"),
  };
}

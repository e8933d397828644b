// The slashing-protection interchange JSON (docs/validator-client.md), modelled on EIP-3076:
// metadata naming the chain, then per public key the slots it signed blocks and attestations
// for, each with the signing root when known. Parsing validates the whole document before
// anything is written, so a bad file changes nothing.
import { readChainUint, readPlainUint } from "@metronome/api";

export const INTERCHANGE_FORMAT = "metronome-slashing-protection";
export const INTERCHANGE_VERSION = "1";
/** Refuse documents beyond this: a record of 4096 validators over years of slots stays far below. */
export const MAX_INTERCHANGE_BYTES = 256 * 1024 * 1024;
export const MAX_INTERCHANGE_RECORDS = 10_000_000;

export interface SignedSlot {
  slot: number;
  /** 0x-hex 32 bytes; null when the exporter did not know it (refuses any signature at that slot). */
  signingRoot: string | null;
}

export interface InterchangeEntry {
  /** 0x-hex 48 bytes, lower case. */
  pubkey: string;
  signedBlocks: SignedSlot[];
  signedAttestations: SignedSlot[];
}

export interface Interchange {
  /** 0x-hex 4 bytes: the chain the record belongs to. */
  forkDigest: string;
  data: InterchangeEntry[];
}

export class InterchangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterchangeError";
  }
}

const HEX_PUBKEY = /^0x[0-9a-fA-F]{96}$/;
const HEX_ROOT = /^0x[0-9a-fA-F]{64}$/;
const HEX_DIGEST = /^0x[0-9a-fA-F]{8}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseSlot(raw: unknown, path: string): number {
  // EIP-3076 quotes integers, read exactly; a bare JSON number is accepted when it is a safe integer.
  try {
    return typeof raw === "number" ? readPlainUint(raw) : readChainUint(raw);
  } catch (err) {
    throw new InterchangeError(`${path}: expected a slot as a decimal string: ${(err as Error).message}`);
  }
}

function parseSignedSlots(raw: unknown, path: string, budget: { left: number }): SignedSlot[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new InterchangeError(`${path}: expected a list`);
  budget.left -= raw.length;
  if (budget.left < 0) throw new InterchangeError(`too many records (limit ${MAX_INTERCHANGE_RECORDS})`);
  return raw.map((item, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(item)) throw new InterchangeError(`${at}: expected an object`);
    const root = item.signing_root;
    if (root !== undefined && root !== null && (typeof root !== "string" || !HEX_ROOT.test(root))) {
      throw new InterchangeError(`${at}.signing_root: expected 32 bytes of 0x-hex`);
    }
    return {
      slot: parseSlot(item.slot, `${at}.slot`),
      signingRoot: typeof root === "string" ? root.toLowerCase() : null,
    };
  });
}

/** Parses and validates an interchange document (already JSON-decoded). */
export function parseInterchange(json: unknown): Interchange {
  if (!isRecord(json)) throw new InterchangeError("expected a JSON object with metadata and data");
  const meta = json.metadata;
  if (!isRecord(meta)) throw new InterchangeError("metadata: missing");
  if (meta.interchange_format !== INTERCHANGE_FORMAT) {
    throw new InterchangeError(`metadata.interchange_format: expected "${INTERCHANGE_FORMAT}"`);
  }
  if (meta.interchange_format_version !== INTERCHANGE_VERSION) {
    throw new InterchangeError(
      `metadata.interchange_format_version: unsupported ${JSON.stringify(meta.interchange_format_version)} (this client reads "${INTERCHANGE_VERSION}")`,
    );
  }
  if (typeof meta.fork_digest !== "string" || !HEX_DIGEST.test(meta.fork_digest)) {
    throw new InterchangeError("metadata.fork_digest: expected 4 bytes of 0x-hex");
  }
  if (!Array.isArray(json.data)) throw new InterchangeError("data: expected a list");
  const budget = { left: MAX_INTERCHANGE_RECORDS };
  const seen = new Set<string>();
  const data = json.data.map((entry, i): InterchangeEntry => {
    const at = `data[${i}]`;
    if (!isRecord(entry)) throw new InterchangeError(`${at}: expected an object`);
    if (typeof entry.pubkey !== "string" || !HEX_PUBKEY.test(entry.pubkey)) {
      throw new InterchangeError(`${at}.pubkey: expected 48 bytes of 0x-hex`);
    }
    const pubkey = entry.pubkey.toLowerCase();
    if (seen.has(pubkey)) throw new InterchangeError(`${at}.pubkey: ${pubkey.slice(0, 18)}… appears twice`);
    seen.add(pubkey);
    return {
      pubkey,
      signedBlocks: parseSignedSlots(entry.signed_blocks, `${at}.signed_blocks`, budget),
      signedAttestations: parseSignedSlots(entry.signed_attestations, `${at}.signed_attestations`, budget),
    };
  });
  return { forkDigest: meta.fork_digest.toLowerCase(), data };
}

/** Parses the text of an interchange file; any JSON or shape error is an InterchangeError. */
export function parseInterchangeText(text: string): Interchange {
  if (text.length > MAX_INTERCHANGE_BYTES) {
    throw new InterchangeError(`file too large (limit ${MAX_INTERCHANGE_BYTES} bytes)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InterchangeError(`not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseInterchange(json);
}

function signedSlotsJson(list: SignedSlot[]): { slot: string; signing_root?: string }[] {
  return list.map((s) =>
    s.signingRoot === null ? { slot: String(s.slot) } : { slot: String(s.slot), signing_root: s.signingRoot },
  );
}

export function interchangeToJson(interchange: Interchange): Record<string, unknown> {
  return {
    metadata: {
      interchange_format: INTERCHANGE_FORMAT,
      interchange_format_version: INTERCHANGE_VERSION,
      fork_digest: interchange.forkDigest,
    },
    data: interchange.data.map((e) => ({
      pubkey: e.pubkey,
      signed_blocks: signedSlotsJson(e.signedBlocks),
      signed_attestations: signedSlotsJson(e.signedAttestations),
    })),
  };
}

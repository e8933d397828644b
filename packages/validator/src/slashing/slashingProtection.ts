// Slashing protection: a LevelDB record (in the signer's --data-dir: the validator client's, or the
// node's when it runs validators itself) of every slot each key signed a block or an attestation
// for, with the signing root. Shared by every signer; it imports nothing from the node or the VC. A signature is released only
// after its record is on disk (synced batch), so a crash right after signing cannot forget it.
// Rules, per key and kind (block / attestation):
//   - a slot already signed with the same signing root may be signed again (re-broadcast);
//   - a slot signed with another root, or with an unknown root (from an import), is refused;
//   - a slot below the lowest slot on record is refused: an imported record may be pruned, so
//     nothing is known about earlier slots.
// LevelDB's lock file makes a second process on the same data dir fail to open: two clients with
// the same record would each believe they are the only signer.
import { existsSync } from "node:fs";
import { mkdir, open as openFile } from "node:fs/promises";
import { join } from "node:path";
import { toHex } from "@metronome/chain";
import { ClassicLevel } from "classic-level";
import type { Interchange, InterchangeEntry, SignedSlot } from "./slashingInterchange.ts";

export type SignKind = "block" | "attestation";

export type SlashingCheck =
  | { status: "new" }
  | { status: "repeat" }
  | { status: "refused"; reason: "double_sign" | "unknown_root" | "below_lowest_slot"; detail: string };

export interface SigningRequest {
  pubkey: Uint8Array;
  slot: number;
  signingRoot: Uint8Array;
}

export type SlashingProtectionErrorCode = "locked" | "corrupt" | "open_failed" | "wrong_chain" | "import_rejected";

export class SlashingProtectionError extends Error {
  readonly code: SlashingProtectionErrorCode;
  constructor(code: SlashingProtectionErrorCode, message: string) {
    super(message);
    this.name = "SlashingProtectionError";
    this.code = code;
  }
}

export interface ImportSummary {
  /** Slots newly recorded. */
  added: number;
  /** Slots already on record with the same root. */
  unchanged: number;
  /** Slots on record with another root: now refused for any root. */
  conflicts: number;
}

export const DB_FOLDER = "slashing-protection";
const INITIALIZED_MARKER = "METRONOME_SLASHING_PROTECTION";
const META_FORK_DIGEST = "meta:fork_digest";
/** Stored in place of a root: something was signed at this slot, the root is unknown. */
export const UNKNOWN_ROOT = "unknown";
const KIND_PREFIX: Readonly<Record<SignKind, string>> = { block: "b", attestation: "a" };
const ROOT_VALUE = /^0x[0-9a-f]{64}$/;

type Db = ClassicLevel<string, string>;

function recordKey(kind: SignKind, pubkeyHex: string, slot: number): string {
  // Zero-padded so LevelDB's byte order is slot order.
  return `${KIND_PREFIX[kind]}:${pubkeyHex}:${String(slot).padStart(16, "0")}`;
}

function keyPrefix(kind: SignKind, pubkeyHex: string): string {
  return `${KIND_PREFIX[kind]}:${pubkeyHex}:`;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e.message}${cause}`;
}

function isLockError(e: unknown): boolean {
  const codes = [(e as { code?: unknown }).code, (e as { cause?: { code?: unknown } }).cause?.code];
  return codes.includes("LEVEL_LOCKED");
}

export class SlashingProtection {
  readonly path: string;
  readonly forkDigest: string;
  private readonly db: Db;
  /** Checks and writes run one at a time: a check is only valid until the next write. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(db: Db, path: string, forkDigest: string) {
    this.db = db;
    this.path = path;
    this.forkDigest = forkDigest;
  }

  /**
   * Opens (creating if needed) the record in `dataDir`/slashing-protection for the chain with
   * `forkDigest` (hex, 0x optional). Fails with code "locked" when another process holds it.
   */
  static async open(dataDir: string, forkDigest: string): Promise<SlashingProtection> {
    const path = join(dataDir, DB_FOLDER);
    await mkdir(path, { recursive: true });
    const db: Db = new ClassicLevel<string, string>(path, { keyEncoding: "utf8", valueEncoding: "utf8" });
    try {
      await db.open();
    } catch (e) {
      if (isLockError(e)) {
        throw new SlashingProtectionError(
          "locked",
          `slashing-protection record at ${path} is locked by another process: is another validator client or node running on this --data-dir? Two signers with the same keys get slashed`,
        );
      }
      throw new SlashingProtectionError(
        "open_failed",
        `cannot open slashing-protection record at ${path}: ${describe(e)}; it may be corrupt. Do not start over with an empty record: restore it or import an exported one`,
      );
    }
    // The genesis config writes the digest bare; records and files always carry the 0x form.
    const digest = forkDigest.toLowerCase().startsWith("0x")
      ? forkDigest.toLowerCase()
      : `0x${forkDigest.toLowerCase()}`;
    try {
      const stored = await db.get(META_FORK_DIGEST);
      const marker = join(path, INITIALIZED_MARKER);
      if (stored === undefined) {
        // The marker outlives a LevelDB that lost its log: refuse rather than forget what was signed.
        if (existsSync(marker)) {
          throw new SlashingProtectionError(
            "corrupt",
            `slashing-protection record at ${path} is corrupt: it was initialized but its metadata is gone; restore it or import an exported record into a fresh --data-dir`,
          );
        }
        await db.put(META_FORK_DIGEST, digest, { sync: true });
        const handle = await openFile(marker, "w");
        try {
          await handle.writeFile(`${JSON.stringify({ fork_digest: digest })}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
      } else if (stored !== digest) {
        throw new SlashingProtectionError(
          "wrong_chain",
          `slashing-protection record at ${path} belongs to chain ${stored}, not ${digest}; use another --data-dir`,
        );
      }
    } catch (e) {
      await db.close();
      if (e instanceof SlashingProtectionError) throw e;
      throw new SlashingProtectionError("corrupt", `cannot read slashing-protection record at ${path}: ${describe(e)}`);
    }
    return new SlashingProtection(db, path, digest);
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    if (this.db.status === "open") await this.db.close();
  }

  /** Checks one signing request and, when allowed and new, records it durably before returning. */
  async checkAndRecord(kind: SignKind, request: SigningRequest): Promise<SlashingCheck> {
    const [result] = await this.checkAndRecordMany(kind, [request]);
    if (result === undefined) throw new Error("unreachable: one request, one result");
    return result;
  }

  /**
   * Checks several requests (e.g. one slot's attestations for all keys) and records the allowed
   * new ones in one synced batch. Results are in request order. A read error refuses everything.
   */
  checkAndRecordMany(kind: SignKind, requests: readonly SigningRequest[]): Promise<SlashingCheck[]> {
    const run = async (): Promise<SlashingCheck[]> => {
      const results: SlashingCheck[] = [];
      const puts: { type: "put"; key: string; value: string }[] = [];
      const asked = requests.map((req) => {
        const pubkeyHex = toHex(req.pubkey);
        return {
          req,
          root: toHex(req.signingRoot),
          key: recordKey(kind, pubkeyHex, req.slot),
          prefix: keyPrefix(kind, pubkeyHex),
        };
      });
      // Every read up front, in parallel: one slot's duty for many keys costs one round trip to the
      // database's threads instead of two per key. A busy main thread takes an event-loop turn per
      // await, and 33 awaits in a row held a 16-key proposal for tens of seconds on a loaded node.
      const keys = [...new Set(asked.map((a) => a.key))];
      const prefixes = [...new Set(asked.map((a) => a.prefix))];
      const [roots, lowests] = await Promise.all([
        Promise.all(keys.map((k) => this.readRoot(k))),
        Promise.all(prefixes.map((p) => this.lowestSlot(p))),
      ]);
      const stored = new Map(keys.map((k, i) => [k, roots[i]]));
      const lowestByKey = new Map(prefixes.map((p, i) => [p, lowests[i]]));
      // Within one call, a second request for a slot sees the first one's decision.
      const pending = new Map<string, string>();
      for (const { req, root, key, prefix } of asked) {
        const existing = pending.get(key) ?? stored.get(key);
        if (existing !== undefined) {
          if (existing === root) results.push({ status: "repeat" });
          else if (existing === UNKNOWN_ROOT)
            results.push({
              status: "refused",
              reason: "unknown_root",
              detail: `${kind} at slot ${req.slot} is on record with an unknown signing root`,
            });
          else
            results.push({
              status: "refused",
              reason: "double_sign",
              detail: `${kind} at slot ${req.slot} already signed with signing root ${existing}, refusing ${root}`,
            });
          continue;
        }
        const lowest = lowestByKey.get(prefix);
        if (lowest !== undefined && req.slot < lowest) {
          results.push({
            status: "refused",
            reason: "below_lowest_slot",
            detail: `${kind} at slot ${req.slot} is below the lowest slot on record (${lowest})`,
          });
          continue;
        }
        pending.set(key, root);
        lowestByKey.set(prefix, lowest === undefined ? req.slot : Math.min(lowest, req.slot));
        puts.push({ type: "put", key, value: root });
        results.push({ status: "new" });
      }
      if (puts.length > 0) await this.db.batch(puts, { sync: true });
      return results;
    };
    return this.serialize(run);
  }

  /**
   * The signing root on record for `kind` at `slot` of `pubkey`: 0x-hex, "unknown" when the slot
   * was imported without one, undefined when nothing is on record (doppelganger detection).
   */
  recordedRoot(kind: SignKind, pubkey: Uint8Array, slot: number): Promise<string | undefined> {
    return this.serialize(() => this.readRoot(recordKey(kind, toHex(pubkey), slot)));
  }

  /** Whether anything at all is on record for these keys (a fresh signer has an empty record). */
  hasAnyRecord(pubkeys: readonly Uint8Array[]): Promise<boolean> {
    return this.serialize(async () => {
      for (const pubkey of pubkeys) {
        for (const kind of ["block", "attestation"] as const) {
          const prefix = keyPrefix(kind, toHex(pubkey));
          if ((await this.lowestSlot(prefix)) !== undefined) return true;
        }
      }
      return false;
    });
  }

  /** The whole record in interchange form. */
  exportInterchange(): Promise<Interchange> {
    return this.serialize(async () => {
      const byKey = new Map<string, InterchangeEntry>();
      for await (const [key, value] of this.db.iterator({ gt: "a:", lt: "c;" })) {
        const parts = key.split(":");
        const [prefix, pubkey, slotText] = parts;
        if (parts.length !== 3 || pubkey === undefined || slotText === undefined) continue;
        const kind = prefix === "b" ? "signedBlocks" : prefix === "a" ? "signedAttestations" : null;
        if (kind === null) continue;
        let entry = byKey.get(pubkey);
        if (entry === undefined) {
          entry = { pubkey, signedBlocks: [], signedAttestations: [] };
          byKey.set(pubkey, entry);
        }
        entry[kind].push({ slot: Number(slotText), signingRoot: value === UNKNOWN_ROOT ? null : value });
      }
      return { forkDigest: this.forkDigest, data: [...byKey.values()] };
    });
  }

  /**
   * Merges an interchange record into this one, all or nothing (one synced batch). A slot on
   * record with another root becomes refused for any root: one of the two was signed somewhere.
   */
  importInterchange(interchange: Interchange): Promise<ImportSummary> {
    return this.serialize(async () => {
      if (interchange.forkDigest !== this.forkDigest) {
        throw new SlashingProtectionError(
          "import_rejected",
          `the file is for chain ${interchange.forkDigest}, this record is for ${this.forkDigest}`,
        );
      }
      const summary: ImportSummary = { added: 0, unchanged: 0, conflicts: 0 };
      const writes = new Map<string, string>();
      const merge = async (kind: SignKind, pubkey: string, list: SignedSlot[]): Promise<void> => {
        for (const { slot, signingRoot } of list) {
          const key = recordKey(kind, pubkey, slot);
          const incoming = signingRoot ?? UNKNOWN_ROOT;
          const existing = writes.get(key) ?? (await this.readRoot(key));
          if (existing === undefined) {
            writes.set(key, incoming);
            summary.added++;
          } else if (existing === incoming && existing !== UNKNOWN_ROOT) {
            summary.unchanged++;
          } else if (existing !== UNKNOWN_ROOT) {
            writes.set(key, UNKNOWN_ROOT);
            summary.conflicts++;
          } else {
            summary.unchanged++;
          }
        }
      };
      for (const entry of interchange.data) {
        await merge("block", entry.pubkey, entry.signedBlocks);
        await merge("attestation", entry.pubkey, entry.signedAttestations);
      }
      if (writes.size > 0) {
        await this.db.batch(
          [...writes].map(([key, value]) => ({ type: "put" as const, key, value })),
          { sync: true },
        );
      }
      return summary;
    });
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** The stored root, UNKNOWN_ROOT, or undefined. A value of any other shape is corruption. */
  private async readRoot(key: string): Promise<string | undefined> {
    const value = await this.db.get(key);
    if (value === undefined || value === UNKNOWN_ROOT || ROOT_VALUE.test(value)) return value;
    throw new SlashingProtectionError("corrupt", `slashing-protection record ${key} holds a malformed value`);
  }

  private async lowestSlot(prefix: string): Promise<number | undefined> {
    for await (const key of this.db.keys({ gte: prefix, lt: `${prefix}~`, limit: 1 })) {
      return Number(key.slice(prefix.length));
    }
    return undefined;
  }
}

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { interopSecretKey } from "@metronome/chain";
import { InterchangeError, interchangeToJson, parseInterchangeText } from "../../src/slashing/slashingInterchange.ts";
import {
  DB_FOLDER,
  type SigningRequest,
  SlashingProtection,
  SlashingProtectionError,
} from "../../src/slashing/slashingProtection.ts";

const DIGEST = "0x12345678";
const HOLDER = fileURLToPath(new URL("./fixtures/recordHolder.ts", import.meta.url));
const PK0 = interopSecretKey(0).toPublicKey().toBytes();
const PK1 = interopSecretKey(1).toPublicKey().toBytes();

function root(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}
function rootHex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0").repeat(32)}`;
}
function req(pubkey: Uint8Array, slot: number, byte: number): SigningRequest {
  return { pubkey, slot, signingRoot: root(byte) };
}

const dirs: string[] = [];
const open: SlashingProtection[] = [];
const children: ChildProcess[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "metronome-sp-"));
  dirs.push(dir);
  return dir;
}
async function openRecord(dir: string, digest = DIGEST): Promise<SlashingProtection> {
  const record = await SlashingProtection.open(dir, digest);
  open.push(record);
  return record;
}
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  for (const c of children.splice(0)) c.kill("SIGKILL");
});
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Starts the record-holder child and resolves with its first output line. */
function holder(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [HOLDER, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`holder printed nothing in 10 s: ${out}`)), 10_000);
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, line: out.slice(0, nl) });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (!out.includes("\n")) reject(new Error(`holder exited ${code}: ${out}`));
    });
  });
}

async function expectCode(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SlashingProtectionError, `expected SlashingProtectionError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe("slashing protection: the signing rules", () => {
  it("allows a new slot, allows the same root again, refuses another root at that slot", async () => {
    const record = await openRecord(await tempDir());
    assert.deepEqual(await record.checkAndRecord("attestation", req(PK0, 5, 1)), { status: "new" });
    assert.deepEqual(await record.checkAndRecord("attestation", req(PK0, 5, 1)), { status: "repeat" });
    const refused = await record.checkAndRecord("attestation", req(PK0, 5, 2));
    assert.equal(refused.status, "refused");
    assert.equal(refused.status === "refused" && refused.reason, "double_sign");
    // Other keys, other slots and the other duty are independent.
    assert.equal((await record.checkAndRecord("attestation", req(PK1, 5, 2))).status, "new");
    assert.equal((await record.checkAndRecord("attestation", req(PK0, 6, 2))).status, "new");
    assert.equal((await record.checkAndRecord("block", req(PK0, 5, 2))).status, "new");
    assert.equal((await record.checkAndRecord("block", req(PK0, 5, 3))).status, "refused");
  });

  it("decides a batch in order: the second request for a slot sees the first", async () => {
    const record = await openRecord(await tempDir());
    const results = await record.checkAndRecordMany("attestation", [
      req(PK0, 9, 1),
      req(PK0, 9, 2),
      req(PK1, 9, 2),
      req(PK0, 9, 1),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["new", "refused", "new", "repeat"],
    );
  });

  it("concurrent requests for one slot with different roots: exactly one is signed", async () => {
    const record = await openRecord(await tempDir());
    const results = await Promise.all([1, 2, 3, 4].map((b) => record.checkAndRecord("block", req(PK0, 20, b))));
    assert.equal(results.filter((r) => r.status === "new").length, 1);
    assert.equal(results.filter((r) => r.status === "refused").length, 3);
  });

  it("refuses slots below the lowest one on record", async () => {
    const record = await openRecord(await tempDir());
    assert.equal((await record.checkAndRecord("block", req(PK0, 10, 1))).status, "new");
    const below = await record.checkAndRecord("block", req(PK0, 4, 1));
    assert.equal(below.status === "refused" && below.reason, "below_lowest_slot");
  });
});

// Issue 11 item 7: each rule of the design has a test that fails when the rule is broken.
describe("slashing protection: guard tests for every rule", () => {
  it("one slot below the lowest slot on record is refused, for any root and both duties", async () => {
    const record = await openRecord(await tempDir());
    for (const kind of ["block", "attestation"] as const) {
      assert.equal((await record.checkAndRecord(kind, req(PK0, 10, 1))).status, "new");
      assert.equal((await record.checkAndRecord(kind, req(PK0, 12, 1))).status, "new");
      for (const byte of [1, 2]) {
        const below = await record.checkAndRecord(kind, req(PK0, 9, byte));
        assert.equal(below.status === "refused" && below.reason, "below_lowest_slot", `${kind} slot 9 root ${byte}`);
      }
      // A slot between recorded ones, above the lowest, is new; the lowest itself follows the slot rules.
      assert.equal((await record.checkAndRecord(kind, req(PK0, 11, 1))).status, "new");
      assert.equal((await record.checkAndRecord(kind, req(PK0, 10, 1))).status, "repeat");
      assert.equal((await record.checkAndRecord(kind, req(PK0, 10, 2))).status, "refused");
    }
    // A refused request is not recorded: the lowest slot stays 10, nothing at 9 is exported.
    const exported = await record.exportInterchange();
    const slots = exported.data[0]?.signedAttestations.map((s) => s.slot);
    assert.deepEqual(slots, [10, 11, 12]);
    // Another key has its own lowest slot.
    assert.equal((await record.checkAndRecord("attestation", req(PK1, 9, 1))).status, "new");
  });

  it("the lowest slot also holds within one batch and after an import", async () => {
    const record = await openRecord(await tempDir());
    const batch = await record.checkAndRecordMany("attestation", [req(PK0, 20, 1), req(PK0, 19, 1), req(PK0, 21, 1)]);
    assert.deepEqual(
      batch.map((r) => (r.status === "refused" ? r.reason : r.status)),
      ["new", "below_lowest_slot", "new"],
    );
    const imported = await openRecord(await tempDir());
    await imported.importInterchange(await record.exportInterchange());
    const below = await imported.checkAndRecord("attestation", req(PK0, 19, 7));
    assert.equal(below.status === "refused" && below.reason, "below_lowest_slot");
  });

  it("a second, different signature at a recorded slot is refused; the same root is a repeat", async () => {
    const record = await openRecord(await tempDir());
    for (const kind of ["block", "attestation"] as const) {
      assert.equal((await record.checkAndRecord(kind, req(PK0, 30, 1))).status, "new");
      const double = await record.checkAndRecord(kind, req(PK0, 30, 2));
      assert.equal(double.status === "refused" && double.reason, "double_sign", kind);
      assert.deepEqual(await record.checkAndRecord(kind, req(PK0, 30, 1)), { status: "repeat" }, kind);
      // The refused root did not replace the recorded one.
      assert.equal(await record.recordedRoot(kind, PK0, 30), rootHex(1));
    }
  });
});

describe("slashing protection: durability, locking, corruption", () => {
  it("survives a close and reopen: a restart does not re-sign differently", async () => {
    const dir = await tempDir();
    const first = await openRecord(dir);
    await first.checkAndRecord("attestation", req(PK0, 7, 1));
    await first.close();
    const second = await openRecord(dir);
    assert.equal((await second.checkAndRecord("attestation", req(PK0, 7, 2))).status, "refused");
    assert.equal((await second.checkAndRecord("attestation", req(PK0, 7, 1))).status, "repeat");
  });

  it("a record is on disk before the signature is released: SIGKILL right after loses nothing", async () => {
    const dir = await tempDir();
    const { child, line } = await holder([dir, "sign", "33", rootHex(0xaa)]);
    assert.equal(line, "released new");
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const record = await openRecord(dir);
    const check = await record.checkAndRecord("attestation", req(PK0, 33, 0xbb));
    assert.equal(check.status === "refused" && check.reason, "double_sign");
  });

  it("a second process on the same data dir is refused with a clear error (LevelDB lock)", async () => {
    const dir = await tempDir();
    const { line } = await holder([dir, "hold"]);
    assert.equal(line, "open");
    await expectCode(
      SlashingProtection.open(dir, DIGEST),
      "locked",
      /locked by another process.*another validator client or node/,
    );
    // And the same from a second process.
    const second = await holder([dir, "hold"]).catch((err: Error) => ({ line: err.message }));
    assert.match(second.line, /^error locked: /);
  });

  it("a record for another chain is refused", async () => {
    const dir = await tempDir();
    await (await openRecord(dir)).close();
    await expectCode(SlashingProtection.open(dir, "0xdeadbeef"), "wrong_chain", /belongs to chain 0x12345678/);
  });

  it("a corrupt LevelDB gives a clear error, not a crash or a fresh record", async () => {
    const dir = await tempDir();
    const record = await openRecord(dir);
    await record.checkAndRecord("block", req(PK0, 1, 1));
    await record.close();
    await writeFile(join(dir, DB_FOLDER, "CURRENT"), "garbage\n");
    await expectCode(SlashingProtection.open(dir, DIGEST), "open_failed", /may be corrupt.*Do not start over/);
  });

  it("a record whose files were wiped but whose marker remains is reported corrupt", async () => {
    const dir = await tempDir();
    await (await openRecord(dir)).close();
    const folder = join(dir, DB_FOLDER);
    for (const f of await readdir(folder)) if (f !== "METRONOME_SLASHING_PROTECTION") await rm(join(folder, f));
    await expectCode(SlashingProtection.open(dir, DIGEST), "corrupt", /initialized but its metadata is gone/);
  });
});

describe("slashing protection: interchange export / import", () => {
  it("export -> import round-trips, and a second client with the record refuses the double signature", async () => {
    const a = await openRecord(await tempDir());
    await a.checkAndRecord("block", req(PK0, 3, 1));
    await a.checkAndRecordMany("attestation", [req(PK0, 4, 2), req(PK1, 4, 2), req(PK1, 5, 3)]);
    const exported = await a.exportInterchange();
    const text = JSON.stringify(interchangeToJson(exported));
    const parsed = parseInterchangeText(text);
    assert.deepEqual(parsed, exported);
    assert.equal(exported.data.length, 2);

    const b = await openRecord(await tempDir());
    assert.deepEqual(await b.importInterchange(parsed), { added: 4, unchanged: 0, conflicts: 0 });
    assert.deepEqual(await b.exportInterchange(), exported);
    const double = await b.checkAndRecord("attestation", req(PK1, 5, 9));
    assert.equal(double.status === "refused" && double.reason, "double_sign");
    assert.equal((await b.checkAndRecord("attestation", req(PK1, 5, 3))).status, "repeat");
    assert.equal((await b.checkAndRecord("block", req(PK0, 3, 7))).status, "refused");
    // Importing the same file again changes nothing.
    assert.deepEqual(await b.importInterchange(parsed), { added: 0, unchanged: 4, conflicts: 0 });
  });

  it("a slot on record with another root, or with no root, is refused for every root", async () => {
    const record = await openRecord(await tempDir());
    await record.checkAndRecord("attestation", req(PK0, 8, 1));
    const doc = {
      metadata: {
        interchange_format: "metronome-slashing-protection",
        interchange_format_version: "1",
        fork_digest: DIGEST,
      },
      data: [
        {
          pubkey: `0x${Buffer.from(PK0).toString("hex")}`,
          signed_attestations: [{ slot: "8", signing_root: rootHex(2) }, { slot: "12" }],
        },
      ],
    };
    const summary = await record.importInterchange(parseInterchangeText(JSON.stringify(doc)));
    assert.deepEqual(summary, { added: 1, unchanged: 0, conflicts: 1 });
    for (const b of [1, 2, 3]) {
      const check = await record.checkAndRecord("attestation", req(PK0, 8, b));
      assert.equal(check.status === "refused" && check.reason, "unknown_root");
    }
    assert.equal((await record.checkAndRecord("attestation", req(PK0, 12, 5))).status, "refused");
    assert.equal((await record.checkAndRecord("attestation", req(PK0, 13, 5))).status, "new");
  });

  it("a corrupt or foreign interchange file is a clear error and changes nothing", async () => {
    const record = await openRecord(await tempDir());
    const bad: [string, RegExp][] = [
      ["{not json", /not valid JSON/],
      ["[]", /expected a JSON object/],
      [JSON.stringify({ metadata: { interchange_format: "eip-3076" }, data: [] }), /interchange_format/],
      [
        JSON.stringify({
          metadata: {
            interchange_format: "metronome-slashing-protection",
            interchange_format_version: "1",
            fork_digest: DIGEST,
          },
          data: [{ pubkey: "0x12", signed_blocks: [] }],
        }),
        /data\[0\]\.pubkey/,
      ],
      [
        JSON.stringify({
          metadata: {
            interchange_format: "metronome-slashing-protection",
            interchange_format_version: "1",
            fork_digest: DIGEST,
          },
          data: [{ pubkey: `0x${"ab".repeat(48)}`, signed_blocks: [{ slot: "-1" }] }],
        }),
        /signed_blocks\[0\]\.slot/,
      ],
      [
        JSON.stringify({
          metadata: {
            interchange_format: "metronome-slashing-protection",
            interchange_format_version: "1",
            fork_digest: DIGEST,
          },
          data: [{ pubkey: `0x${"ab".repeat(48)}`, signed_blocks: [{ slot: "9007199254740993" }] }],
        }),
        /signed_blocks\[0\]\.slot: .*9007199254740993 is above 2\^53 - 1/,
      ],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseInterchangeText(text),
        (err: unknown) => err instanceof InterchangeError && message.test(err.message),
      );
    }
    const foreign = parseInterchangeText(
      JSON.stringify({
        metadata: {
          interchange_format: "metronome-slashing-protection",
          interchange_format_version: "1",
          fork_digest: "0x00000000",
        },
        data: [{ pubkey: `0x${"ab".repeat(48)}`, signed_blocks: [{ slot: "1" }] }],
      }),
    );
    await expectCode(record.importInterchange(foreign), "import_rejected", /for chain 0x00000000/);
    assert.deepEqual((await record.exportInterchange()).data, []);
  });
});

describe("slashing protection under a busy main thread", () => {
  it("reads a many-key duty's records in parallel, not one await per key", async () => {
    const sp = await openRecord(await tempDir());
    const keys = Array.from({ length: 16 }, (_, i) => interopSecretKey(i).toPublicKey().toBytes());
    // A spy on the real database: how many reads are outstanding at once.
    const db = (sp as unknown as { db: { get: (k: string) => Promise<string | undefined> } }).db;
    const realGet = db.get.bind(db);
    let outstanding = 0;
    let most = 0;
    db.get = async (k: string) => {
      outstanding++;
      most = Math.max(most, outstanding);
      try {
        return await realGet(k);
      } finally {
        outstanding--;
      }
    };
    const results = await sp.checkAndRecordMany(
      "attestation",
      keys.map((pk) => req(pk, 5, 1)),
    );
    assert.ok(results.every((r) => r.status === "new"));
    assert.equal(most, 16, `at most ${most} reads were in flight together`);
    // The decisions are the same as one by one: a second, different root for one key is refused.
    const again = await sp.checkAndRecordMany("attestation", [
      req(keys[0] as Uint8Array, 5, 2),
      req(keys[1] as Uint8Array, 5, 1),
    ]);
    assert.deepEqual(
      again.map((r) => r.status),
      ["refused", "repeat"],
    );
  });
});

// Export and import of a record through files (both `metronome node` and `metronome validator`
// slashing-protection subcommands run these): a round trip carries the refusals to a new data dir,
// and a bad file is a one-line error that changes nothing.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { interopSecretKey } from "@metronome/chain";
import { exportRecordToFile, importRecordFromFile } from "../../src/slashing/interchangeFile.ts";
import { SlashingProtection } from "../../src/slashing/slashingProtection.ts";

const DIGEST = "0x12345678";
const PK0 = interopSecretKey(0).toPublicKey().toBytes();
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "metronome-spfile-"));
  dirs.push(dir);
  return dir;
}

describe("slashing-protection interchange files", () => {
  it("export from one data dir, import into another: the double signature is refused there", async () => {
    const [from, to, files] = [await tempDir(), await tempDir(), await tempDir()];
    const record = await SlashingProtection.open(from, DIGEST);
    await record.checkAndRecord("block", { pubkey: PK0, slot: 7, signingRoot: new Uint8Array(32).fill(1) });
    await record.close();
    const file = join(files, "record.json");
    assert.match(await exportRecordToFile(from, DIGEST, file), /exported 1 keys \(1 signed slots\)/);
    assert.match(await importRecordFromFile(to, DIGEST, file), /1 slots added/);
    const imported = await SlashingProtection.open(to, DIGEST);
    try {
      const check = await imported.checkAndRecord("block", {
        pubkey: PK0,
        slot: 7,
        signingRoot: new Uint8Array(32).fill(2),
      });
      assert.equal(check.status === "refused" && check.reason, "double_sign");
    } finally {
      await imported.close();
    }
    assert.match(await readFile(file, "utf8"), /"fork_digest": "0x12345678"/);
  });

  it("a malformed file names itself and the problem, and changes nothing", async () => {
    const [to, files] = [await tempDir(), await tempDir()];
    const file = join(files, "bad.json");
    await writeFile(file, "{nope");
    await assert.rejects(importRecordFromFile(to, DIGEST, file), /bad\.json: not valid JSON/);
    const record = await SlashingProtection.open(to, DIGEST);
    try {
      assert.deepEqual((await record.exportInterchange()).data, []);
    } finally {
      await record.close();
    }
  });
});

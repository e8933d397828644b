// Export and import of a slashing-protection record as an interchange JSON file, for every signer
// (`metronome validator slashing-protection ...` and `metronome node slashing-protection ...`).
// The signer must be stopped: the record is locked while it runs.
import { readFile, stat, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { interchangeToJson, MAX_INTERCHANGE_BYTES, parseInterchangeText } from "./slashingInterchange.ts";
import { SlashingProtection } from "./slashingProtection.ts";

/** Writes the record of `dataDir` to `file`; returns a one-line summary. */
export async function exportRecordToFile(dataDir: string, forkDigest: string, file: string): Promise<string> {
  const record = await SlashingProtection.open(resolve(dataDir), forkDigest);
  try {
    const interchange = await record.exportInterchange();
    await writeFile(resolve(file), `${JSON.stringify(interchangeToJson(interchange), null, 2)}\n`);
    const slots = interchange.data.reduce((n, e) => n + e.signedBlocks.length + e.signedAttestations.length, 0);
    return `exported ${interchange.data.length} keys (${slots} signed slots) to ${file}`;
  } finally {
    await record.close();
  }
}

/** Merges `file` into the record of `dataDir`, all or nothing; a bad file changes nothing. */
export async function importRecordFromFile(dataDir: string, forkDigest: string, file: string): Promise<string> {
  const path = resolve(file);
  const size = (await stat(path)).size;
  if (size > MAX_INTERCHANGE_BYTES) throw new Error(`${file}: file too large (limit ${MAX_INTERCHANGE_BYTES} bytes)`);
  let interchange: ReturnType<typeof parseInterchangeText>;
  try {
    interchange = parseInterchangeText(await readFile(path, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const record = await SlashingProtection.open(resolve(dataDir), forkDigest);
  try {
    const s = await record.importInterchange(interchange);
    return `imported ${file}: ${s.added} slots added, ${s.unchanged} already on record, ${s.conflicts} conflicting (now refused for any root)`;
  } finally {
    await record.close();
  }
}

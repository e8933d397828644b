// `metronome validator`: runs the validator client until SIGTERM/SIGINT, and
// `metronome validator slashing-protection export|import` for the interchange JSON.

import { readFile, stat, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { readGenesisFolder } from "../config/genesisConfig.ts";
import { type LogFormat, Logger, type LogLevel } from "../util/logger.ts";
import { ValidatorClientService } from "../vc/clientService.ts";
import { interchangeToJson, MAX_INTERCHANGE_BYTES, parseInterchangeText } from "../vc/slashingInterchange.ts";
import { SlashingProtection } from "../vc/slashingProtection.ts";
import { exitOnUncaughtErrors, runUntilSignal } from "./processLifecycle.ts";

export interface ValidatorCommandFlags {
  beaconNodes: string[];
  validatorIndices: number[];
  dataDir: string;
  genesis: string;
  httpHost: string;
  httpPort: number;
  metricsPort: number;
  tokenFile?: string;
  beaconNodeTokenFile?: string;
  requestTimeoutMs?: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export async function runValidatorCommand(flags: ValidatorCommandFlags): Promise<void> {
  const logger = new Logger({ level: flags.logLevel, format: flags.logFormat }, "vc");
  exitOnUncaughtErrors(logger);
  // A SIGTERM during start-up still shuts down cleanly (closing the slashing-protection record).
  await runUntilSignal(logger, () =>
    ValidatorClientService.start(
      {
        beaconNodes: flags.beaconNodes,
        validatorIndices: flags.validatorIndices,
        dataDir: flags.dataDir,
        genesisDir: flags.genesis,
        httpHost: flags.httpHost,
        httpPort: flags.httpPort === 0 ? null : flags.httpPort,
        metricsPort: flags.metricsPort === 0 ? null : flags.metricsPort,
        tokenFile: flags.tokenFile,
        beaconNodeTokenFile: flags.beaconNodeTokenFile,
        requestTimeoutMs: flags.requestTimeoutMs,
      },
      logger,
    ),
  );
}

export interface SlashingProtectionFlags {
  dataDir: string;
  genesis: string;
  file: string;
}

async function openRecord(flags: SlashingProtectionFlags): Promise<SlashingProtection> {
  const genesis = await readGenesisFolder(resolve(flags.genesis));
  return SlashingProtection.open(resolve(flags.dataDir), genesis.chain.forkDigest);
}

/** Writes the record of --data-dir to --file (the client must not be running: the record is locked). */
export async function runSlashingProtectionExport(flags: SlashingProtectionFlags): Promise<string> {
  const record = await openRecord(flags);
  try {
    const interchange = await record.exportInterchange();
    await writeFile(resolve(flags.file), `${JSON.stringify(interchangeToJson(interchange), null, 2)}\n`);
    const slots = interchange.data.reduce((n, e) => n + e.signedBlocks.length + e.signedAttestations.length, 0);
    return `exported ${interchange.data.length} keys (${slots} signed slots) to ${flags.file}`;
  } finally {
    await record.close();
  }
}

/** Merges --file into the record of --data-dir; a bad file changes nothing. */
export async function runSlashingProtectionImport(flags: SlashingProtectionFlags): Promise<string> {
  const path = resolve(flags.file);
  const size = (await stat(path)).size;
  if (size > MAX_INTERCHANGE_BYTES)
    throw new Error(`${flags.file}: file too large (limit ${MAX_INTERCHANGE_BYTES} bytes)`);
  let interchange: ReturnType<typeof parseInterchangeText>;
  try {
    interchange = parseInterchangeText(await readFile(path, "utf8"));
  } catch (err) {
    throw new Error(`${flags.file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const record = await openRecord(flags);
  try {
    const s = await record.importInterchange(interchange);
    return `imported ${flags.file}: ${s.added} slots added, ${s.unchanged} already on record, ${s.conflicts} conflicting (now refused for any root)`;
  } finally {
    await record.close();
  }
}

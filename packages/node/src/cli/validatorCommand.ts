// `metronome validator`: runs the validator client until SIGTERM/SIGINT, and
// `metronome validator slashing-protection export|import` for the interchange JSON.

import { resolve } from "node:path";
import { assertFetchablePort, type LogFormat, Logger, type LogLevel, readGenesisFolder } from "@metronome/common";
import { exportRecordToFile, importRecordFromFile, ValidatorClientService } from "@metronome/validator";
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
  // The beacon-node URLs are checked where every URL is normalized (vc/beaconNodes.ts).
  assertFetchablePort(flags.httpPort, "--http-port");
  assertFetchablePort(flags.metricsPort, "--metrics-port");
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

async function forkDigestOf(genesisDir: string): Promise<string> {
  return (await readGenesisFolder(resolve(genesisDir))).chain.forkDigest;
}

/** Writes the record of --data-dir to --file (the client must not be running: the record is locked). */
export async function runSlashingProtectionExport(flags: SlashingProtectionFlags): Promise<string> {
  return exportRecordToFile(flags.dataDir, await forkDigestOf(flags.genesis), flags.file);
}

/** Merges --file into the record of --data-dir; a bad file changes nothing. */
export async function runSlashingProtectionImport(flags: SlashingProtectionFlags): Promise<string> {
  return importRecordFromFile(flags.dataDir, await forkDigestOf(flags.genesis), flags.file);
}

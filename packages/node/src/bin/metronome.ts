#!/usr/bin/env node
import { buildCli } from "../cli/index.ts";

try {
  await buildCli().parseAsync(process.argv);
} catch (e) {
  console.error(`metronome: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

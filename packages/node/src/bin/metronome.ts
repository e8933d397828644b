#!/usr/bin/env -S node --max-semi-space-size=32 --expose-gc --no-memory-reducer-favors-memory
// The shebang's flags are @metronome/common's NODE_RUNTIME_FLAGS (runtimeFlags.ts says why).
import { buildCli } from "../cli/index.ts";

try {
  await buildCli().parseAsync(process.argv);
} catch (e) {
  console.error(`metronome: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

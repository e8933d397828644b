#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536 node --max-semi-space-size=32 --max-old-space-size=1024 --expose-gc --no-memory-reducer-favors-memory
// The shebang's flags are @metronome/common's NODE_RUNTIME_FLAGS and its GLIBC_TUNABLES is
// MALLOC_TUNABLE (runtimeFlags.ts says why; an operator's own GLIBC_TUNABLES is replaced here).
import { buildCli } from "../cli/index.ts";

try {
  await buildCli().parseAsync(process.argv);
} catch (e) {
  console.error(`metronome: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

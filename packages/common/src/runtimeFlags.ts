// The V8 flags and the malloc tunable a node process starts with. The flags must be on the `node`
// command line (or in NODE_OPTIONS): V8 sizes the main thread's heap when the process starts,
// before any of our code runs; glibc likewise reads GLIBC_TUNABLES only at start. Everything that
// starts a node (the devnet launcher, the image's wrapper, the bin's shebang, `npm run metronome`,
// the compose file and the systemd unit) passes both; a node started without them says so in its
// log.

import { setFlagsFromString } from "node:v8";

/**
 * Each of the driver thread's two young-generation semi-spaces, in MiB (V8's default here is 16).
 * Under a flood of valid votes the driver allocates short-lived objects (decoded votes, signing
 * roots, fork-choice updates) faster than a 16 MiB semi-space can hold for one scavenge, so V8
 * promotes them to the old generation, whose pages the process keeps after the flood. With 32 MiB
 * they die young: on the pinned 900 msgs/s valid flood the main heap peaked at 92 MiB instead of
 * 169, the event loop's worst stall fell 105 -> 56 ms and RSS 60 s after the flood 574 -> 445 MiB
 * (docs/performance.md). Only the driver thread keeps it: workers size their own young generation
 * (clearDriverHeapFlagsForWorkers).
 */
export const DRIVER_SEMI_SPACE_MIB = 32;

/**
 * `--expose-gc` lets the network worker ask V8 for full collections after a burst, the last one of
 * which gives freed heap pages back to the OS (packages/clock/src/heapReducer.ts). Without it the
 * worker kept a valid-signature flood's garbage and pooled pages for minutes: RSS 60 s after a
 * 180 s flood was 825 MiB, 511 above its pre-flood figure; with it, 302 MiB, 24 above
 * (docs/performance.md).
 */
export const EXPOSE_GC_FLAG = "--expose-gc";

/**
 * V8's memory reducer starts a full collection once a busy heap goes quiet (as the driver's does
 * when a flood stops or its sender is cut off). By default that collection also compacts the whole
 * heap in one pause: on the driver thread, after a valid-signature flood, 115-240 ms with the event
 * loop stopped (--trace-gc, docs/performance.md). With this flag the reducer's collections are
 * ordinary ones (their atomic pause 4-6 ms on the same flood: marking stays incremental); freed
 * pages are still given back, the network worker's last-resort collections still compact its heap.
 * Node refuses it in NODE_OPTIONS: it goes on the command line.
 */
export const PLAIN_MEMORY_REDUCER_FLAG = "--no-memory-reducer-favors-memory";

/**
 * The driver thread's old generation may hold at most this many MiB; past it V8 stops the process.
 * The size also sets how far V8 lets that heap grow between major collections: 4x its live size
 * when the limit is 2 GiB or more (the default here is 4 GiB), scaled down towards 1.3x below, so
 * 1.6x at 1024 MiB. Under a valid-signature flood the driver holds 40-66 MiB in use; at 4x its old
 * generation grew to 2-3 times that between collections, and the garbage also held its votes'
 * small buffers in glibc's heap. In six 180 s valid floods with the limit (docs/performance.md)
 * the main heap peaked at 111-121 MiB committed and node 0's RSS grew 70-96 MiB; in four without
 * it, 123-177 MiB and 87-204 MiB, following how much of the flood the driver took in. The price
 * is a few more major collections on the driver (6 in the flood instead of 4 in the traced pair).
 * 1024 MiB is ten times the largest driver heap measured (~100 MiB committed under the
 * hostile-peer bench); `metronome_driver_thread_heap_limit_bytes` beside
 * `nodejs_heap_size_used_bytes` shows how close a node is. Only the driver keeps it (like
 * DRIVER_SEMI_SPACE_MIB: clearDriverHeapFlagsForWorkers).
 */
export const DRIVER_MAX_OLD_SPACE_MIB = 1024;

/**
 * V8 applies heap sizes given on the command line to every isolate the process creates, over a
 * worker's own `resourceLimits`: with DRIVER_SEMI_SPACE_MIB on the command line the network
 * worker's young generation grew to 2 x 32 MiB instead of its 48 MiB cap (its heap limit read 352
 * MiB, not 304), and DRIVER_MAX_OLD_SPACE_MIB would replace its old-generation cap. The driver
 * thread's heap is sized once, when the process starts, so clearing both flags afterwards (0:
 * unset) leaves the driver's heap as it is and lets every worker started later size its own: the
 * network worker by its resourceLimits, the BLS workers by V8's default. The node calls this
 * before it starts any worker.
 */
export function clearDriverHeapFlagsForWorkers(): void {
  setFlagsFromString("--max-semi-space-size=0");
  setFlagsFromString("--max-old-space-size=0");
}

/** The flags, as `node` takes them before the script. */
export const NODE_RUNTIME_FLAGS: readonly string[] = [
  `--max-semi-space-size=${DRIVER_SEMI_SPACE_MIB}`,
  `--max-old-space-size=${DRIVER_MAX_OLD_SPACE_MIB}`,
  EXPOSE_GC_FLAG,
  PLAIN_MEMORY_REDUCER_FLAG,
];

/**
 * glibc's malloc gives a block of at least this many bytes its own mapping, unmapped when it is
 * freed. By default the threshold starts at 128 KiB and rises to the largest mapped block freed so
 * far (up to 32 MiB); from then on big transient buffers (such as the serialised batches that cross
 * between the driver, the network worker and the BLS workers) are cut from the brk heap. Freed,
 * they leave holes below live blocks, and free() only ever returns the heap's top: after a 90 s
 * valid-signature flood the driver's arena held 77 MB with 15 MB in use, and malloc_trim gave back
 * 54 MiB (gdb, docs/performance.md). Fixed at 64 KiB (which also stops the threshold moving), the
 * brk heap peaked at 29-48 MiB instead of 73, and node 0's RSS 60 s after the flood was 49 MiB
 * above its pre-flood figure after a 90 s flood and 64-96 after 180 s ones, against 145 before.
 * A 16 KiB threshold did no better (75 MiB): what is left is small blocks.
 */
export const MALLOC_MMAP_THRESHOLD_BYTES = 65_536;

/** The glibc tunable that sets it: glibc reads GLIBC_TUNABLES once, as the process starts. */
export const MALLOC_TUNABLE = `glibc.malloc.mmap_threshold=${MALLOC_MMAP_THRESHOLD_BYTES}`;

/**
 * GLIBC_TUNABLES for a node process: MALLOC_TUNABLE, then whatever the operator already set, so
 * the operator's own value of a tunable wins (glibc takes the last one given).
 */
export function nodeGlibcTunables(current: string | undefined): string {
  const own = (current ?? "").split(":").filter((t) => t !== "" && t !== MALLOC_TUNABLE);
  return [MALLOC_TUNABLE, ...own].join(":");
}

/** The environment a node process starts with: `env` with GLIBC_TUNABLES from nodeGlibcTunables. */
export function nodeRuntimeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: nodeGlibcTunables(env.GLIBC_TUNABLES) };
}

/** Whether GLIBC_TUNABLES fixes malloc's mmap threshold (to any value: the operator may choose). */
export function hasMallocTunable(glibcTunables: string | undefined): boolean {
  return (glibcTunables ?? "").split(":").some((t) => t.startsWith("glibc.malloc.mmap_threshold="));
}

/** NODE_OPTIONS's words, then the command line's: the order V8 reads them in, so the last one wins. */
function startupWords(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  return [...(nodeOptions ?? "").split(/\s+/).filter((w) => w !== ""), ...execArgv];
}

/**
 * The value (MiB) of a V8 size flag such as `max-semi-space-size` the process was started with,
 * from its command-line flags and NODE_OPTIONS (V8 takes the last one given), or null when
 * neither sets it. V8 accepts `-` and `_` alike in a flag's name.
 */
function startedSizeFlagMib(flag: string, execArgv: readonly string[], nodeOptions: string | undefined): number | null {
  const name = new RegExp(`^--${flag.replaceAll("-", "[-_]")}(?:=(.*))?$`);
  const words = startupWords(execArgv, nodeOptions);
  let found: number | null = null;
  for (let i = 0; i < words.length; i++) {
    const match = name.exec(words[i] as string);
    if (match === null) continue;
    const value = Number(match[1] ?? words[i + 1]);
    if (Number.isFinite(value) && value > 0) found = value;
  }
  return found;
}

/** The semi-space size (MiB) the process was started with, or null (startedSizeFlagMib). */
export function startedSemiSpaceMib(execArgv: readonly string[], nodeOptions: string | undefined): number | null {
  return startedSizeFlagMib("max-semi-space-size", execArgv, nodeOptions);
}

/** The old-generation size (MiB) the process was started with, or null (startedSizeFlagMib). */
export function startedMaxOldSpaceMib(execArgv: readonly string[], nodeOptions: string | undefined): number | null {
  return startedSizeFlagMib("max-old-space-size", execArgv, nodeOptions);
}

/**
 * Why this process's runtime flags fall short of NODE_RUNTIME_FLAGS, or null when they do not:
 * what the node logs at start so an operator who runs it by hand knows what to add.
 */
export function runtimeFlagsShortfall(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  malloc: { glibc: boolean; tunables: string | undefined } = { glibc: false, tunables: undefined },
): string | null {
  const missing: string[] = [];
  const semiSpace = startedSemiSpaceMib(execArgv, nodeOptions);
  if (semiSpace === null || semiSpace < DRIVER_SEMI_SPACE_MIB) {
    missing.push(`young-generation semi-space is ${semiSpace === null ? "V8's default" : `${semiSpace} MiB`}`);
  }
  // A larger old generation is an operator's choice (a bigger chain); none at all is V8's 4 GiB.
  if (startedMaxOldSpaceMib(execArgv, nodeOptions) === null)
    missing.push("the driver's heap may grow to 4 times what it holds between collections");
  const words = startupWords(execArgv, nodeOptions);
  if (!words.some((w) => w === EXPOSE_GC_FLAG || w === "--expose_gc"))
    missing.push("the network worker cannot collect its heap");
  if (!words.some((w) => w === PLAIN_MEMORY_REDUCER_FLAG || w === "--no_memory_reducer_favors_memory"))
    missing.push("the memory reducer may stop the clock's thread to compact the heap");
  const fixes = missing.length === 0 ? [] : [`start node with ${NODE_RUNTIME_FLAGS.join(" ")}`];
  if (malloc.glibc && !hasMallocTunable(malloc.tunables)) {
    missing.push("glibc may keep freed buffers in its heap");
    fixes.push(`set GLIBC_TUNABLES=${MALLOC_TUNABLE}`);
  }
  if (missing.length === 0) return null;
  return `${missing.join("; ")}: ${fixes.join(" and ")} (after a flood the process would keep memory it no longer uses)`;
}

/** Whether this process runs on glibc (the tunable means nothing to musl, macOS or Windows). */
export function runsOnGlibc(): boolean {
  if (process.platform !== "linux") return false;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return typeof header?.glibcVersionRuntime === "string";
}

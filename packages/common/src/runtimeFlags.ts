// The V8 flags a node process starts with. They must be on the `node` command line (or in
// NODE_OPTIONS): V8 sizes the main thread's heap when the process starts, before any of our code
// runs. Everything that starts a node (the devnet launcher, the image's wrapper, the bin's shebang,
// `npm run metronome`) passes them; a node started without them says so in its log.

/**
 * Each of the driver thread's two young-generation semi-spaces, in MiB (V8's default here is 16).
 * Under a flood of valid votes the driver allocates short-lived objects (decoded votes, signing
 * roots, fork-choice updates) faster than a 16 MiB semi-space can hold for one scavenge, so V8
 * promotes them to the old generation, whose pages the process keeps after the flood. With 32 MiB
 * they die young: on the pinned 900 msgs/s valid flood the main heap peaked at 92 MiB instead of
 * 169, the event loop's worst stall fell 105 -> 56 ms and RSS 60 s after the flood 574 -> 445 MiB
 * (docs/performance.md). It also applies to the BLS workers (their isolates inherit the flag); the
 * network worker sets its own young generation (NETWORK_WORKER_MAX_YOUNG_GENERATION_MB).
 */
export const DRIVER_SEMI_SPACE_MIB = 32;

/** The flags, as `node` takes them before the script. */
export const NODE_RUNTIME_FLAGS: readonly string[] = [`--max-semi-space-size=${DRIVER_SEMI_SPACE_MIB}`];

/**
 * The semi-space size (MiB) the process was started with, from its command-line flags and
 * NODE_OPTIONS (V8 takes the last one given), or null when neither sets it.
 */
export function startedSemiSpaceMib(execArgv: readonly string[], nodeOptions: string | undefined): number | null {
  const words = [...(nodeOptions ?? "").split(/\s+/).filter((w) => w !== ""), ...execArgv];
  let found: number | null = null;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const match = /^--max[-_]semi[-_]space[-_]size(?:=(.*))?$/.exec(word);
    if (match === null) continue;
    const value = Number(match[1] ?? words[i + 1]);
    if (Number.isFinite(value) && value > 0) found = value;
  }
  return found;
}

/**
 * Why this process's runtime flags fall short of NODE_RUNTIME_FLAGS, or null when they do not:
 * what the node logs at start so an operator who runs it by hand knows what to add.
 */
export function runtimeFlagsShortfall(execArgv: readonly string[], nodeOptions: string | undefined): string | null {
  const semiSpace = startedSemiSpaceMib(execArgv, nodeOptions);
  if (semiSpace !== null && semiSpace >= DRIVER_SEMI_SPACE_MIB) return null;
  const got = semiSpace === null ? "V8's default" : `${semiSpace} MiB`;
  return `young-generation semi-space is ${got}; start node with ${NODE_RUNTIME_FLAGS.join(" ")} (a flood promotes short-lived objects and the process keeps that memory)`;
}

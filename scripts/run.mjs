#!/usr/bin/env node
// Bootstrap runner: the README's two commands (`npm run devnet`, `npm test`) land here.
// It runs on whatever Node the machine has (20 is enough), installs the workspace with a pinned
// pnpm fetched through npx when needed, then runs the task on the Node 24 that the `node`
// devDependency ships into node_modules/.bin, so nobody installs a Node by hand.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const binDir = join(root, "node_modules", ".bin");
const PNPM = "pnpm@10.34.8";

const TEST_GLOBS = ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"];
// The V8 flags a node starts with: NODE_RUNTIME_FLAGS in packages/common/src/runtimeFlags.ts (this
// file runs on the machine's Node before the workspace is installed, so it cannot import them).
const METRONOME = [
  "node",
  "--max-semi-space-size=32",
  "--max-old-space-size=1024",
  "--expose-gc",
  "--no-memory-reducer-favors-memory",
  "packages/node/src/bin/metronome.ts",
];
// glibc's malloc tunable a node starts with: MALLOC_TUNABLE in the same file (runtimeFlags.ts says
// why). glibc reads it as a process starts, so it goes in the node's environment, before the
// operator's own GLIBC_TUNABLES (whose value of a tunable then wins).
const MALLOC_TUNABLE = "glibc.malloc.mmap_threshold=65536";
/** The tasks that start a node (or a devnet of them): their environment carries MALLOC_TUNABLE. */
const NODE_TASKS = new Set(["devnet", "metronome"]);
/** The import-graph check (no cycles, packages depend downwards only; rules in .dependency-cruiser.mjs). */
const DEPS = ["depcruise", "--config", ".dependency-cruiser.mjs", "--output-type", "err", "packages", "test", "bench"];

/** Each task is a list of commands run in order; the first failure stops the task. */
const tasks = {
  test: (args) => [
    ["biome", "check", "."],
    DEPS,
    ["tsc", "-p", "tsconfig.json"],
    ["node", "--test", "--test-reporter=spec", ...(args.length > 0 ? args : TEST_GLOBS)],
  ],
  "test:unit": (args) => [["node", "--test", "--test-reporter=spec", ...(args.length > 0 ? args : TEST_GLOBS)]],
  lint: () => [["biome", "check", "."]],
  deps: () => [DEPS],
  typecheck: () => [["tsc", "-p", "tsconfig.json"]],
  devnet: (args) => [[...METRONOME, "devnet", ...args]],
  metronome: (args) => [[...METRONOME, ...args]],
  sim: (args) => [["node", "packages/chain/src/sim/cli.ts", ...args]],
  bench: (args) => [["node", "bench/run.ts", ...args]],
};

function installIfNeeded() {
  const marker = join(root, "node_modules", ".modules.yaml");
  const lock = join(root, "pnpm-lock.yaml");
  const fresh = existsSync(marker) && existsSync(join(binDir, "node"));
  if (fresh && (!existsSync(lock) || statSync(lock).mtimeMs <= statSync(marker).mtimeMs)) return;
  console.error(`[metronome] installing dependencies with ${PNPM} (first run only)...`);
  const frozen = existsSync(lock) ? ["--frozen-lockfile"] : [];
  const result = spawnSync("npx", ["--yes", PNPM, "install", ...frozen], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, npm_config_yes: "true" },
  });
  if (result.status !== 0) {
    console.error("[metronome] dependency install failed");
    process.exit(result.status ?? 1);
  }
}

function main() {
  const [name, ...rest] = process.argv.slice(2);
  const task = name ? tasks[name] : undefined;
  if (!task) {
    console.error(`usage: node scripts/run.mjs <${Object.keys(tasks).join("|")}> [args...]`);
    process.exit(2);
  }
  installIfNeeded();
  // Node 24 from node_modules/.bin comes first on PATH, so `node` below is the project's Node.
  const env = {
    ...process.env,
    PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}`,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, "--disable-warning=ExperimentalWarning"].filter(Boolean).join(" "),
  };
  if (NODE_TASKS.has(name)) env.GLIBC_TUNABLES = [MALLOC_TUNABLE, process.env.GLIBC_TUNABLES].filter(Boolean).join(":");
  for (const [cmd, ...args] of task(rest)) {
    const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
    if (result.error) {
      console.error(`[metronome] could not run ${cmd}: ${result.error.message}`);
      process.exit(1);
    }
    if (result.signal) process.kill(process.pid, result.signal);
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
}

main();

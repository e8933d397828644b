// `node bench/run.ts [name ...] [--option ...]`: leading bare words name benchmarks; everything
// from the first option (or after a literal `--`) is passed to each selected benchmark unchanged.
// npm forwards `npm run bench:flood -- --flood-seconds 180` as `flood --flood-seconds 180`, so
// options must never be mistaken for benchmark names.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";

export type BenchArgs = { names: string[]; passThrough: string[] };

export function splitBenchArgs(argv: readonly string[]): BenchArgs {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return { names, passThrough: argv.slice(i + 1) };
    if (arg.startsWith("-")) return { names, passThrough: argv.slice(i) };
    names.push(arg);
  }
  return { names, passThrough: [] };
}

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/**
 * A benchmark's own options: `--help` prints the file's header comment (where each bench says what
 * it does and how to call it) and exits 0; an unknown or malformed option is a one-line error and
 * exit code 2, not a stack trace.
 */
export function benchOptions<const T extends OptionsConfig>(fileUrl: string, options: T) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(headerComment(fileURLToPath(fileUrl)));
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    console.error(`${basename(fileURLToPath(fileUrl), ".ts")}: ${(err as Error).message} (--help lists the options)`);
    process.exit(2);
  }
}

/** The leading `//` comment of a source file, without the slashes. */
export function headerComment(path: string): string {
  const lines: string[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.startsWith("//")) break;
    lines.push(line.replace(/^\/\/ ?/, ""));
  }
  return lines.join("\n");
}

/** A positive integer option's value, or `fallback` when it was not given; a bad value is a usage error. */
export function positiveIntOption(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} wants a positive integer, got "${text}"`);
  return n;
}

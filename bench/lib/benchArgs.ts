// `node bench/run.ts [name ...] [--option ...]`: leading bare words name benchmarks; everything
// from the first option (or after a literal `--`) is passed to each selected benchmark unchanged.
// npm forwards `npm run bench:flood -- --flood-seconds 180` as `flood --flood-seconds 180`, so
// options must never be mistaken for benchmark names.

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

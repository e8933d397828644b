// `node packages/chain/src/sim/cli.ts --validators 16 --nodes 4 --slots 30 [--offline 0-5@10-20]`
// Prints one line per slot and a verdict; exits 1 when the nodes disagree on the finalized root,
// 2 on bad arguments.
import { parseArgs } from "node:util";
import { formatSlotLine, formatVerdict } from "./format.ts";
import { DEFAULT_SIM_SEED, parseOfflineWindow, type SimOptions } from "./options.ts";
import type { VerifyMode } from "./simNode.ts";
import { runSimulation } from "./simulator.ts";
import { judgeSimulation } from "./verdict.ts";

const USAGE =
  "usage: cli.ts [--validators N=16] [--nodes K=4] [--slots S=30] [--seed X=1] [--offline V-V@S-S ...] [--verify batch|single] [--quiet]";

function intArg(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new RangeError(`--${name} wants a non-negative integer, got "${text}"`);
  return Number(text);
}

function verifyModeArg(text: string | undefined): VerifyMode {
  if (text === undefined || text === "batch" || text === "single") return text ?? "batch";
  throw new RangeError(`--verify wants batch or single, got "${text}"`);
}

function main(argv: string[]): number {
  let options: SimOptions;
  let quiet: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        validators: { type: "string" },
        nodes: { type: "string" },
        slots: { type: "string" },
        seed: { type: "string" },
        offline: { type: "string", multiple: true },
        verify: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    quiet = values.quiet ?? false;
    options = {
      validators: intArg("validators", values.validators, 16),
      nodes: intArg("nodes", values.nodes, 4),
      slots: intArg("slots", values.slots, 30),
      seed: intArg("seed", values.seed, DEFAULT_SIM_SEED),
      offline: (values.offline ?? []).flatMap((s) => s.split(",")).map(parseOfflineWindow),
      verifyMode: verifyModeArg(values.verify),
    };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }

  const started = performance.now();
  let result: ReturnType<typeof runSimulation>;
  try {
    result = runSimulation(options, { onSlot: (r) => (quiet ? undefined : console.log(formatSlotLine(r))) });
  } catch (err) {
    if (err instanceof RangeError) {
      console.error(`${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const verdict = judgeSimulation(result);
  for (const line of formatVerdict(result, verdict)) console.log(line);
  console.log(`ran in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return verdict.ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));

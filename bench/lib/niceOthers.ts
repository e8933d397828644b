// Runs the processes that are not under measurement at a lower scheduling priority than node 0:
// the flood bench's other devnet nodes and its flooder stand in for other machines, and on a
// 2-core machine they otherwise take node 0's cores at node 0's own priority. Unlike pinning
// (`--pin-others`), they still get every cycle node 0 leaves idle. Linux (`nice` from coreutils);
// the command is started under `nice`, so every thread it makes inherits the lower priority and a
// node's workers keep their offsets below its driver (packages/clock/src/threadPriority.ts).
import { MAX_NICE } from "../../packages/clock/src/threadPriority.ts";

export class NiceOffsetError extends Error {}

/** `--nice-others`: an integer from 0 (off: every process at one priority) to 19. */
export function parseNiceOffset(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > MAX_NICE) {
    throw new NiceOffsetError(`--nice-others takes a nice offset from 0 to ${MAX_NICE}, not "${text}"`);
  }
  return n;
}

/** `file args` run `offset` nicer than this process; unchanged at 0. */
export function niceCommand(offset: number, file: string, args: string[]): { file: string; args: string[] } {
  if (offset === 0) return { file, args };
  return { file: "nice", args: ["-n", String(offset), file, ...args] };
}

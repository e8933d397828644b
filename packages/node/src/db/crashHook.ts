// Crash injection for the crash-recovery tests: METRONOME_CRASH_AT=<point>:<n> makes the process
// SIGKILL itself the n-th time (1-based) it reaches the named write boundary, e.g.
// `finality:before-batch:2`. Read once at start; without the variable every call is a no-op.

/** The write boundaries a test can kill at, in the order a finality write passes them. */
export const CRASH_POINTS = [
  "init:after-block",
  "init:after-anchor",
  "block:after-put",
  "finality:before-batch",
  "finality:after-batch",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export const CRASH_ENV = "METRONOME_CRASH_AT";

interface CrashPlan {
  point: CrashPoint;
  hit: number;
}

/** Parses `<point>:<n>`; throws on anything else so a mistyped test setting cannot pass silently. */
export function parseCrashPlan(value: string | undefined): CrashPlan | null {
  if (value === undefined || value === "") return null;
  const at = value.lastIndexOf(":");
  const point = value.slice(0, at);
  const hit = Number(value.slice(at + 1));
  if (at < 0 || !(CRASH_POINTS as readonly string[]).includes(point) || !Number.isSafeInteger(hit) || hit < 1) {
    throw new Error(`${CRASH_ENV}=${value}: expected <point>:<n> with point one of ${CRASH_POINTS.join(", ")}`);
  }
  return { point: point as CrashPoint, hit };
}

const plan = parseCrashPlan(process.env[CRASH_ENV]);
let hits = 0;

/** Marks a write boundary: SIGKILLs this process if the plan names this point and hit. */
export function crashPoint(point: CrashPoint): void {
  if (plan === null || plan.point !== point) return;
  hits++;
  if (hits === plan.hit) process.kill(process.pid, "SIGKILL");
}

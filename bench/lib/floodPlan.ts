// The flood benchmark's periods, planned from its options before anything runs (pure, tested):
// a no-flood baseline, one single-peer flood per --rates multiple (the capacity curve), a Sybil
// flood, the valid-signature flood with peer scoring on and off, then the ablations. Each flood is
// followed by a quiet recovery period, whose end gives "RSS N s after the flood".

/** Node 0's flag that turns peer-score disconnections off (the scoring-off control). */
export const SCORING_OFF_FLAG = "--no-peer-score-disconnects";
/** The mix of the scoring pair: every signature valid, so no penalty can cut the flooder off. */
export const VALID_MIX = "valid=100";
/** Rates are rounded to this many msgs/s: the capacity figure is not more precise. */
export const RATE_STEP = 50;

/** Ablations of the driver's bounds: node 0 restarted with these flags and flooded again. */
export const ABLATIONS = [
  { name: "pool, --max-batch 0", args: ["--max-batch", "0"] },
  { name: "main thread", args: ["--bls-workers", "0"] },
  { name: "main thread, --max-batch 0", args: ["--bls-workers", "0", "--max-batch", "0"] },
] as const;

export type PeriodRole = "baseline" | "curve" | "sybil" | "scoring" | "ablation" | "recovery";

export interface PlannedPeriod {
  name: string;
  role: PeriodRole;
  seconds: number;
  /** Node 0's extra flags for this period; a change from the previous period restarts node 0. */
  nodeArgs: readonly string[];
  /** Flood periods only. */
  flood: {
    /** Multiple of the verification capacity on this mix (null when the rate was given). */
    multiple: number | null;
    /** Fixed msgs/s (--rate), else derived from the multiple. */
    rate: number | null;
    peers: number;
    mix: string;
  } | null;
  /** A recovery period names the flood it follows. */
  after: string | null;
}

export interface FloodPlanOptions {
  baselineS: number;
  floodS: number;
  recoveryS: number;
  /** --rates: capacity multiples of the single-peer floods (the capacity curve). */
  rates: readonly number[];
  /** --rate: one single-peer flood at exactly this rate instead of the curve. */
  fixedRate: number | null;
  mix: string;
  /** 0: no Sybil period. */
  sybilPeers: number;
  sybilMultiple: number;
  /** The valid-signature flood with scoring on, then off. */
  scoringPair: boolean;
  pairMultiple: number;
  /** --scoring off: node 0 runs every other period without score disconnections. */
  scoring: "on" | "off";
  ablation: boolean;
  ablationS: number;
  ablationMultiple: number;
}

export class PlanError extends Error {}

/** "1,2,4,8" -> [1, 2, 4, 8]: positive, finite, no repeats. */
export function parseRates(text: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (p === "" || !Number.isFinite(n) || n <= 0) throw new PlanError(`--rates: "${p}" is not a positive number`);
    if (out.includes(n)) throw new PlanError(`--rates: ${n} appears twice`);
    out.push(n);
  }
  return out;
}

/**
 * Messages per second for `multiple` x capacity: capacity counts signature sets, and only
 * `verifiedShare` of a mix's messages need one, so the message rate is scaled up by it.
 */
export function rateForMultiple(multiple: number, capacitySetsPerSec: number, verifiedShare: number): number {
  const raw = (multiple * capacitySetsPerSec) / Math.max(verifiedShare, 0.01);
  return Math.max(RATE_STEP, Math.round(raw / RATE_STEP) * RATE_STEP);
}

/** --scoring: "on" or "off". */
export function parseScoring(text: string | undefined): "on" | "off" {
  if (text === "on" || text === "off") return text;
  throw new PlanError(`--scoring must be on or off, got ${text}`);
}

/** Largest --sybil-peers: the flood tool's own limit on identities. */
export const MAX_SYBIL_PEERS = 64;

function checkOptions(o: FloodPlanOptions): void {
  const positive: [string, number][] = [
    ["--flood-seconds", o.floodS],
    ["--sybil-multiple", o.sybilMultiple],
    ["--pair-multiple", o.pairMultiple],
    ["--ablation-seconds", o.ablationS],
    ["--ablation-multiple", o.ablationMultiple],
  ];
  if (o.fixedRate !== null) positive.push(["--rate", o.fixedRate]);
  for (const [flag, v] of positive) {
    if (!Number.isFinite(v) || v <= 0) throw new PlanError(`${flag} must be a positive number, got ${v}`);
  }
  for (const [flag, v] of [
    ["--baseline-seconds", o.baselineS],
    ["--recovery-seconds", o.recoveryS],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new PlanError(`${flag} must be 0 or more, got ${v}`);
  }
  if (!Number.isInteger(o.sybilPeers) || o.sybilPeers < 0 || o.sybilPeers > MAX_SYBIL_PEERS) {
    throw new PlanError(`--sybil-peers must be an integer from 0 to ${MAX_SYBIL_PEERS}, got ${o.sybilPeers}`);
  }
}

/** "2x" for 2, "0.5x" for 0.5. */
export function multipleLabel(m: number): string {
  return `${Number(m.toFixed(2))}x`;
}

export function planPeriods(o: FloodPlanOptions): PlannedPeriod[] {
  checkOptions(o);
  if (o.fixedRate !== null && o.rates.length > 1) {
    throw new PlanError("--rate fixes one flood's rate; --rates plans several: give one or the other");
  }
  const base: readonly string[] = o.scoring === "off" ? [SCORING_OFF_FLAG] : [];
  const out: PlannedPeriod[] = [];
  const flood = (
    name: string,
    role: PeriodRole,
    seconds: number,
    nodeArgs: readonly string[],
    f: NonNullable<PlannedPeriod["flood"]>,
  ) => {
    out.push({ name, role, seconds, nodeArgs, flood: f, after: null });
    if (o.recoveryS > 0) {
      out.push({ name: `after ${name}`, role: "recovery", seconds: o.recoveryS, nodeArgs, flood: null, after: name });
    }
  };
  out.push({ name: "no flood", role: "baseline", seconds: o.baselineS, nodeArgs: base, flood: null, after: null });
  if (o.fixedRate !== null) {
    flood("flood", "curve", o.floodS, base, { multiple: null, rate: o.fixedRate, peers: 1, mix: o.mix });
  } else {
    for (const m of o.rates) {
      flood(`flood ${multipleLabel(m)}`, "curve", o.floodS, base, { multiple: m, rate: null, peers: 1, mix: o.mix });
    }
  }
  if (o.sybilPeers > 0) {
    flood(`sybil ${o.sybilPeers} peers ${multipleLabel(o.sybilMultiple)}`, "sybil", o.floodS, base, {
      multiple: o.sybilMultiple,
      rate: null,
      peers: o.sybilPeers,
      mix: o.mix,
    });
  }
  if (o.scoringPair) {
    for (const scoring of ["on", "off"] as const) {
      flood(
        `${VALID_MIX} ${multipleLabel(o.pairMultiple)} scoring ${scoring}`,
        "scoring",
        o.floodS,
        scoring === "on" ? [] : [SCORING_OFF_FLAG],
        { multiple: o.pairMultiple, rate: null, peers: 1, mix: VALID_MIX },
      );
    }
  }
  if (o.ablation) {
    for (const a of ABLATIONS) {
      out.push({
        name: a.name,
        role: "ablation",
        seconds: o.ablationS,
        nodeArgs: [...base, ...a.args],
        flood:
          o.fixedRate === null
            ? { multiple: o.ablationMultiple, rate: null, peers: 1, mix: o.mix }
            : { multiple: null, rate: o.fixedRate, peers: 1, mix: o.mix },
        after: null,
      });
    }
  }
  return out;
}

/** The bounded flood the ablations are compared with (same rate, node 0 with its bounds). */
export function ablationReference(o: Pick<FloodPlanOptions, "fixedRate" | "ablationMultiple">): string {
  return o.fixedRate === null ? `flood ${multipleLabel(o.ablationMultiple)}` : "flood";
}

/** The distinct mixes the plan floods with (capacity is measured once per mix). */
export function mixesOf(plan: readonly PlannedPeriod[]): string[] {
  return [...new Set(plan.flatMap((p) => (p.flood === null ? [] : [p.flood.mix])))];
}

/** Whole-run length in seconds, without start-up, restarts and capacity measurement. */
export function plannedSeconds(plan: readonly PlannedPeriod[]): number {
  return plan.reduce((sum, p) => sum + p.seconds, 0);
}

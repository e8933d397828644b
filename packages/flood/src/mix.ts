// The flood's message mix: which kinds of gossip to send, in what proportions. A smooth weighted
// round-robin picks the kind of every message, so any window of a few dozen messages already has
// the requested proportions (a random pick would only converge on average).

export const FLOOD_KINDS = [
  "valid",
  "redundant",
  "invalid_sig",
  "unknown_root",
  "future_slot",
  "duplicate",
  "malformed",
] as const;
export type FloodKind = (typeof FLOOD_KINDS)[number];

export type FloodMix = Readonly<Record<FloodKind, number>>;

export const DEFAULT_MIX_TEXT = "valid=20,invalid_sig=40,unknown_root=20,future_slot=5,duplicate=5,malformed=10";

/**
 * Kinds that reach a signature check on a target that checks every one (the others are dropped
 * before any pairing); the bench's flood rate is based on them. "redundant" is one: a target
 * without the already-known rule verifies each, so `--mix redundant=100` floods at the rate
 * `--mix valid=100` does and shows what the rule saves.
 */
export const VERIFIED_KINDS: readonly FloodKind[] = ["valid", "redundant", "invalid_sig", "unknown_root"];

export class MixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MixError";
  }
}

function isFloodKind(name: string): name is FloodKind {
  return (FLOOD_KINDS as readonly string[]).includes(name);
}

/** Parses "valid=20,invalid_sig=40,..."; kinds left out weigh 0. Weights are relative, not percent. */
export function parseMix(text: string): FloodMix {
  const mix: Record<FloodKind, number> = {
    valid: 0,
    redundant: 0,
    invalid_sig: 0,
    unknown_root: 0,
    future_slot: 0,
    duplicate: 0,
    malformed: 0,
  };
  const seen = new Set<string>();
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (match === null) throw new MixError(`bad mix entry "${part}": expected kind=weight`);
    const [, name, weight] = match as unknown as [string, string, string];
    if (!isFloodKind(name)) throw new MixError(`unknown kind "${name}" (kinds: ${FLOOD_KINDS.join(", ")})`);
    if (seen.has(name)) throw new MixError(`kind "${name}" given twice`);
    seen.add(name);
    mix[name] = Number(weight);
  }
  if (FLOOD_KINDS.every((k) => mix[k] === 0)) throw new MixError("the mix has no kind with a weight above 0");
  return mix;
}

export function formatMix(mix: FloodMix): string {
  return FLOOD_KINDS.filter((k) => mix[k] > 0)
    .map((k) => `${k}=${mix[k]}`)
    .join(",");
}

/** Fraction of the messages of `mix` that are of one of `kinds`. */
export function mixShare(mix: FloodMix, kinds: readonly FloodKind[]): number {
  const total = FLOOD_KINDS.reduce((sum, k) => sum + mix[k], 0);
  return kinds.reduce((sum, k) => sum + mix[k], 0) / total;
}

/** Smooth weighted round-robin (nginx's): deterministic, spreads each kind evenly over time. */
export class MixPicker {
  private readonly kinds: FloodKind[];
  private readonly weights: number[];
  private readonly current: number[];
  private readonly total: number;

  constructor(mix: FloodMix) {
    this.kinds = FLOOD_KINDS.filter((k) => mix[k] > 0);
    this.weights = this.kinds.map((k) => mix[k]);
    this.current = this.kinds.map(() => 0);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  next(): FloodKind {
    let best = 0;
    for (let i = 0; i < this.kinds.length; i++) {
      this.current[i] = (this.current[i] as number) + (this.weights[i] as number);
      if ((this.current[i] as number) > (this.current[best] as number)) best = i;
    }
    this.current[best] = (this.current[best] as number) - this.total;
    return this.kinds[best] as FloodKind;
  }
}

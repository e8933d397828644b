// Simulation options: validation, defaults, and the "which validator is offline when" rule.
import { VALIDATOR_REGISTRY_LIMIT } from "../constants.ts";
import type { VerifyMode } from "./simNode.ts";

/** Inclusive on both ends. */
export interface IndexRange {
  from: number;
  to: number;
}

/** Validators `validators.from..to` neither propose nor attest in slots `slots.from..to`. */
export interface OfflineWindow {
  validators: IndexRange;
  slots: IndexRange;
}

export interface SimOptions {
  nodes: number;
  validators: number;
  /** Block slots simulated after genesis: 1..slots (slot 0 is genesis; its validators only attest). */
  slots: number;
  offline?: readonly OfflineWindow[];
  /** Drives message delivery order and aggregator choice. */
  seed?: number;
  /** How nodes check single-attestation signatures (default "batch"; see VerifyMode). */
  verifyMode?: VerifyMode;
}

export interface ResolvedSimOptions {
  nodes: number;
  validators: number;
  slots: number;
  offline: readonly OfflineWindow[];
  seed: number;
  verifyMode: VerifyMode;
}

/** Keeps a simulation a few minutes at most; the sim is for reasoning, not load testing. */
export const MAX_SIM_NODES = 64;
export const MAX_SIM_SLOTS = 10_000;
export const DEFAULT_SIM_SEED = 1;

function requireInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

export function resolveSimOptions(opts: SimOptions): ResolvedSimOptions {
  requireInt("nodes", opts.nodes, 1, MAX_SIM_NODES);
  requireInt("validators", opts.validators, 1, VALIDATOR_REGISTRY_LIMIT);
  requireInt("slots", opts.slots, 1, MAX_SIM_SLOTS);
  const seed = opts.seed ?? DEFAULT_SIM_SEED;
  requireInt("seed", seed, 0, 0xffffffff);
  const offline = opts.offline ?? [];
  for (const w of offline) {
    requireInt("offline validator", w.validators.from, 0, opts.validators - 1);
    requireInt("offline validator", w.validators.to, w.validators.from, opts.validators - 1);
    requireInt("offline slot", w.slots.from, 0, MAX_SIM_SLOTS);
    requireInt("offline slot", w.slots.to, w.slots.from, MAX_SIM_SLOTS);
  }
  const verifyMode = opts.verifyMode ?? "batch";
  if (verifyMode !== "batch" && verifyMode !== "single")
    throw new RangeError(`unknown verify mode ${String(verifyMode)}`);
  return { nodes: opts.nodes, validators: opts.validators, slots: opts.slots, offline, seed, verifyMode };
}

const within = (r: IndexRange, x: number) => x >= r.from && x <= r.to;

export function isOffline(offline: readonly OfflineWindow[], validatorIndex: number, slot: number): boolean {
  return offline.some((w) => within(w.validators, validatorIndex) && within(w.slots, slot));
}

function parseRange(text: string, what: string): IndexRange {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (m === null) throw new RangeError(`bad ${what} range "${text}" (want N or N-M)`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from) throw new RangeError(`bad ${what} range "${text}": end before start`);
  return { from, to };
}

/** "0-5@10-20": validators 0..5 offline in slots 10..20 (a single number is a one-element range). */
export function parseOfflineWindow(text: string): OfflineWindow {
  const parts = text.split("@");
  if (parts.length !== 2) throw new RangeError(`bad offline window "${text}" (want VALIDATORS@SLOTS, e.g. 0-5@10-20)`);
  return { validators: parseRange(parts[0] as string, "validator"), slots: parseRange(parts[1] as string, "slot") };
}

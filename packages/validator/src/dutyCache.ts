// Duties of the client's validators, fetched a window of slots at a time from the best beacon
// node and kept per slot. A chain_reorg clears the cache (duties are re-resolved from the new
// head); slots behind the clock are pruned, so the cache holds at most a window and a bit.

import { dutiesRoute } from "@metronome/api";
import type { BeaconNodes } from "./beaconNodes.ts";

export interface SlotDuties {
  /** Our validator proposing this slot, if any. */
  proposer: number | null;
  attesters: number[];
}

/** Slots fetched per look-up; the duties route allows up to 64. */
export const DEFAULT_DUTY_WINDOW = 8;
/** Slots kept behind the current one (a late duty may still ask). */
const KEEP_BEHIND = 2;

export class DutyCache {
  private readonly nodes: BeaconNodes;
  private readonly indices: number[];
  private readonly window: number;
  private readonly bySlot = new Map<number, SlotDuties>();
  /** One look-up in flight per window start, shared by concurrent callers. */
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Bumped by invalidate(): a look-up started before a reorg must not refill the cache. */
  private generation = 0;
  private readonly onFetch: ((cause: string) => void) | undefined;

  constructor(o: { nodes: BeaconNodes; indices: number[]; window?: number; onFetch?: (cause: string) => void }) {
    this.nodes = o.nodes;
    this.onFetch = o.onFetch;
    this.indices = [...o.indices].sort((a, b) => a - b);
    this.window = Math.min(64, Math.max(1, o.window ?? DEFAULT_DUTY_WINDOW));
  }

  get size(): number {
    return this.bySlot.size;
  }

  peek(slot: number): SlotDuties | undefined {
    return this.bySlot.get(slot);
  }

  /** Duties for `slot`, fetching the window starting there when not cached (`cause` labels the look-up). */
  async get(slot: number, cause = "window"): Promise<SlotDuties> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const cached = this.bySlot.get(slot);
      if (cached !== undefined) return cached;
      await this.fetchWindow(slot, cause);
    }
    const cached = this.bySlot.get(slot);
    if (cached === undefined) throw new Error(`no duties for slot ${slot} (invalidated twice while fetching)`);
    return cached;
  }

  /** Drops everything cached: called on a chain reorg. */
  invalidate(): void {
    this.generation++;
    this.bySlot.clear();
  }

  prune(currentSlot: number): void {
    for (const slot of this.bySlot.keys()) if (slot < currentSlot - KEEP_BEHIND) this.bySlot.delete(slot);
  }

  private fetchWindow(start: number, cause: string): Promise<void> {
    const existing = this.inFlight.get(start);
    if (existing !== undefined) return existing;
    const generation = this.generation;
    const run = (async () => {
      const request = { slot: start, count: this.window, indices: this.indices };
      const { value } = await this.nodes.first("duties", (c) => c.call(dutiesRoute, request));
      this.onFetch?.(cause);
      const { proposers, attesters } = value;
      if (generation !== this.generation) return;
      const ours = new Set(this.indices);
      for (let slot = start; slot < start + this.window; slot++)
        this.bySlot.set(slot, { proposer: null, attesters: [] });
      for (const p of proposers) {
        const d = this.bySlot.get(p.slot);
        if (d !== undefined && ours.has(p.validatorIndex)) d.proposer = p.validatorIndex;
      }
      for (const a of attesters) {
        const d = this.bySlot.get(a.slot);
        const index = a.validatorIndex;
        if (d !== undefined && ours.has(index) && !d.attesters.includes(index)) d.attesters.push(index);
      }
    })();
    this.inFlight.set(start, run);
    const clear = () => this.inFlight.delete(start);
    run.then(clear, clear);
    return run;
  }
}

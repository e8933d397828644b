// An aggregator keeps the verified single attestations of recent slots until interval 2, when it
// folds them into aggregates. Bounded: at most `validatorCount` entries per slot (one per validator
// and slot) and only the newest `slotWindow` slots.
import type { SignedAttestation } from "@metronome/chain";

export class AttestationCollector {
  private readonly bySlot = new Map<number, Map<number, SignedAttestation>>();
  private readonly slotWindow: number;
  dropped = 0;

  constructor(slotWindow = 2) {
    this.slotWindow = slotWindow;
  }

  add(att: SignedAttestation, currentSlot: number): void {
    const slot = att.data.slot;
    if (slot + this.slotWindow <= currentSlot || slot > currentSlot + 1) {
      this.dropped++;
      return;
    }
    let entries = this.bySlot.get(slot);
    if (!entries) {
      entries = new Map();
      this.bySlot.set(slot, entries);
    }
    // First signature per validator and slot wins; a second one for the same slot is equivocation.
    if (!entries.has(att.validatorIndex)) entries.set(att.validatorIndex, att);
  }

  /** Attestations of `slot`, leaving them in place (several data may be aggregated separately). */
  forSlot(slot: number): SignedAttestation[] {
    return [...(this.bySlot.get(slot)?.values() ?? [])];
  }

  prune(currentSlot: number): void {
    for (const slot of this.bySlot.keys()) if (slot + this.slotWindow <= currentSlot) this.bySlot.delete(slot);
  }

  get size(): number {
    let n = 0;
    for (const m of this.bySlot.values()) n += m.size;
    return n;
  }
}

// Log formatting of clock positions.
/** Compact "slot/interval" label for logs, e.g. `formatSlotInterval(12, 3)` is "12/3". */
export function formatSlotInterval(slot: number, intervalInSlot: number): string {
  return `${slot}/${intervalInSlot}`;
}

// What the flooder knows of the target's chain, read from its HTTP API once a slot: head,
// justified and finalized checkpoints and the canonical blocks between finalized and head. Valid
// and unknown-root attestations are built over these, so they pass the target's structural checks.
import { readChainUint } from "@metronome/api";
import { type Checkpoint, fromHex } from "@metronome/chain";

export interface ChainSnapshot {
  head: Checkpoint;
  justified: Checkpoint;
  finalized: Checkpoint;
  /** Canonical blocks from finalized up to head, ascending by slot (skipped slots absent), bounded. */
  blocks: Checkpoint[];
  /** The flooder's wall-clock slot when the snapshot was taken. */
  currentSlot: number;
}

/** Blocks fetched per snapshot beyond head/justified/finalized: the newest ones are the useful ones. */
export const MAX_SNAPSHOT_BLOCKS = 12;
const REQUEST_TIMEOUT_MS = 2_000;

/** GET /eth/v1/beacon/headers/{id} as a checkpoint; null on 404, timeout or a malformed answer. */
export async function fetchHeader(httpUrl: string, id: string | number): Promise<Checkpoint | null> {
  try {
    const res = await fetch(`${httpUrl}/eth/v1/beacon/headers/${id}`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return parseHeader(await res.json());
  } catch {
    return null;
  }
}

export function parseHeader(body: unknown): Checkpoint | null {
  const data = (body as { data?: { root?: unknown; header?: { message?: { slot?: unknown } } } } | null)?.data;
  const root = data?.root;
  const slot = data?.header?.message?.slot;
  if (typeof root !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(root)) return null;
  let slotNumber: number;
  try {
    slotNumber = readChainUint(slot);
  } catch {
    return null;
  }
  return { root: fromHex(root), slot: slotNumber };
}

/** One snapshot, or null when the target does not answer (the flooder keeps its previous one). */
export async function fetchChainSnapshot(httpUrl: string, currentSlot: number): Promise<ChainSnapshot | null> {
  const [head, justified, finalized] = await Promise.all([
    fetchHeader(httpUrl, "head"),
    fetchHeader(httpUrl, "justified"),
    fetchHeader(httpUrl, "finalized"),
  ]);
  if (head === null || justified === null || finalized === null) return null;
  const from = Math.max(finalized.slot + 1, head.slot - MAX_SNAPSHOT_BLOCKS);
  const slots: number[] = [];
  for (let slot = from; slot < head.slot; slot++) {
    if (slot !== justified.slot) slots.push(slot);
  }
  const between = await Promise.all(slots.map((slot) => fetchHeader(httpUrl, slot)));
  const bySlot = new Map<number, Checkpoint>();
  for (const cp of [finalized, justified, ...between, head]) if (cp !== null) bySlot.set(cp.slot, cp);
  const blocks = [...bySlot.values()].sort((a, b) => a.slot - b.slot);
  return { head, justified, finalized, blocks, currentSlot };
}

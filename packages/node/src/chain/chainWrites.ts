// The chain's database writes as write-queue tasks: a block as it is imported, the finality batch
// as finality moves, and the drain at shutdown. The queue (db/writeQueue.ts) bounds and retries them.
import { type Checkpoint, SignedBlock, State, type State as StateValue, shortRoot } from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { ChainDb } from "../db/chainDb.ts";
import { crashPoint } from "../db/crashHook.ts";
import type { WriteQueue, WriteTask } from "../db/writeQueue.ts";

/** One imported block's write. */
export function blockWrite(db: ChainDb, root: Uint8Array, signed: SignedBlock): WriteTask {
  const bytes = SignedBlock.serialize(signed);
  const slot = signed.block.slot;
  return {
    kind: "block" as const,
    bytes: bytes.byteLength,
    label: `block ${slot}/${shortRoot(root)}`,
    run: async () => {
      await db.putBlockBytes(root, slot, bytes);
      crashPoint("block:after-put");
    },
  };
}

/** ONE database batch for a finality: index, anchor state, anchor pointer, pruning. */
export function finalityWrite(db: ChainDb, logger: Logger, finalized: Checkpoint, state: StateValue): WriteTask {
  const stateBytes = State.serialize(state);
  return {
    kind: "finality" as const,
    bytes: stateBytes.byteLength,
    label: `finality ${finalized.slot}/${shortRoot(finalized.root)}`,
    run: async () => {
      const result = await db.finalize(finalized, stateBytes);
      logger.debug("finality persisted", { slot: finalized.slot, ...result });
    },
  };
}

/**
 * Shutdown: waits up to `timeoutMs` for the queue to drain, then stops retrying; returns how many
 * writes were abandoned (recovered on the next start: blocks refetched, finality recomputed).
 */
export async function drainAndClose(writes: WriteQueue, timeoutMs: number, logger: Logger): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([writes.idle(), timedOut]);
  clearTimeout(timer);
  const abandoned = await writes.close();
  if (abandoned > 0) logger.warn("database writes abandoned at shutdown", { writes: abandoned });
  return abandoned;
}

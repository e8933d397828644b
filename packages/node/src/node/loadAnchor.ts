// Where a starting node's fork choice begins: the database's finalized anchor, else a checkpoint
// fetched from another node (--checkpoint-sync-url), else genesis (written as the first anchor).
// Each first write is followed by a crash point so the restart tests can stop it halfway.
import {
  Block,
  createGenesisBlock,
  type SignedBlock as SignedBlockValue,
  State,
  type State as StateValue,
  shortRoot,
} from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { ChainDb } from "../db/chainDb.ts";
import { crashPoint } from "../db/crashHook.ts";
import { fetchCheckpointAnchor } from "./checkpointSync.ts";
import type { NodeOptions } from "./options.ts";

export interface LoadedAnchor {
  state: StateValue;
  block: SignedBlockValue;
  isGenesis: boolean;
}

/** The database's finalized anchor, or genesis for a fresh data dir (written as the first anchor). */
export async function loadAnchor(
  db: ChainDb,
  genesisState: StateValue,
  options: NodeOptions,
  logger: Logger,
): Promise<LoadedAnchor> {
  const stored = await db.getAnchor();
  if (stored !== null) {
    // A start killed between its first anchor and the marker: the anchor is durable, say so.
    if (!db.initialized) await db.markInitialized();
    const check = await db.checkCanonicalChain();
    logger.info("resuming from the database", {
      anchorSlot: stored.checkpoint.slot,
      root: shortRoot(stored.checkpoint.root),
      canonicalBlocksChecked: check.blocks,
      checkMs: Math.round(check.ms),
    });
    if (check.repaired > 0) {
      logger.warn("repaired the finalized index from the stored blocks' parent links", { entries: check.repaired });
    }
    return { state: stored.state, block: stored.block, isGenesis: stored.checkpoint.slot === 0 };
  }
  if (options.checkpointSyncUrl !== undefined) {
    const anchor = await fetchCheckpointAnchor(options.checkpointSyncUrl, {
      expected: { genesisState },
      timeoutMs: 60_000,
    });
    const checkpoint = { root: anchor.root, slot: anchor.block.block.slot };
    await db.putBlock(anchor.root, anchor.block);
    crashPoint("init:after-block");
    await db.finalize(checkpoint, State.serialize(anchor.state));
    crashPoint("init:after-anchor");
    await db.markInitialized();
    logger.info("starting from a checkpoint", {
      url: options.checkpointSyncUrl,
      slot: checkpoint.slot,
      root: shortRoot(checkpoint.root),
    });
    return { state: anchor.state, block: anchor.block, isGenesis: false };
  }
  const block: SignedBlockValue = { block: createGenesisBlock(genesisState), signature: new Uint8Array(96) };
  const root = Block.hashTreeRoot(block.block);
  await db.putBlock(root, block);
  crashPoint("init:after-block");
  await db.finalize({ root, slot: 0 }, State.serialize(genesisState));
  crashPoint("init:after-anchor");
  await db.markInitialized();
  logger.info("starting from genesis", { genesisTime: options.chain.genesisTime, root: shortRoot(root) });
  return { state: genesisState, block, isGenesis: true };
}

// GET /eth/v1/beacon/headers/{block_id}: a block header by head, finalized, justified, genesis, slot
// or root. Canonical means on the head's chain; finalized history comes from the database.
import { BlockBody, toHex } from "@metronome/chain";
import type { BlockIdQuery, HeaderSummary } from "../api/backend.ts";
import type { ChainQueries } from "../chain/interface.ts";

/**
 * The canonical block root at `slot`: the head's chain in the store, else the database's
 * finalized index (the store keeps nothing below the finalized block; the database's index is
 * written just after finality moves, so the store answers for that short window).
 */
async function canonicalRootAt(chain: ChainQueries, slot: number): Promise<Uint8Array | undefined> {
  return chain.ancestorAtSlot(chain.head.root, slot)?.root ?? (await chain.finalizedRootAt(slot)) ?? undefined;
}

/** Canonical means on the head's chain; finalized history comes from the database. */
export async function lookupHeader(chain: ChainQueries, id: BlockIdQuery): Promise<HeaderSummary | null> {
  const finalized = chain.finalized;
  let root: Uint8Array | null | undefined;
  switch (id.kind) {
    case "head":
      root = chain.head.root;
      break;
    case "finalized":
      root = finalized.root;
      break;
    case "justified":
      root = chain.justified.root;
      break;
    case "root":
      root = id.root;
      break;
    case "genesis":
      root = await chain.finalizedRootAt(0);
      break;
    case "slot":
      root = await canonicalRootAt(chain, id.slot);
      break;
  }
  if (root === null || root === undefined) return null;
  const signed = await chain.signedBlock(root);
  const block = signed?.block ?? chain.getBlock(root);
  if (block === undefined) return null;
  if (id.kind === "slot" && block.slot !== id.slot) return null;
  const canonicalRoot = await canonicalRootAt(chain, block.slot);
  return {
    root,
    canonical: canonicalRoot !== null && canonicalRoot !== undefined && toHex(canonicalRoot) === toHex(root),
    header: {
      slot: block.slot,
      proposerIndex: block.proposerIndex,
      parentRoot: block.parentRoot,
      stateRoot: block.stateRoot,
      bodyRoot: BlockBody.hashTreeRoot(block.body),
    },
    signature: signed?.signature ?? new Uint8Array(96),
  };
}

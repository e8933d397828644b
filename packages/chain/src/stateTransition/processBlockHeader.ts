// leanSpec lstar process_block_header: validate the header and extend the header-linked history.
import { HISTORICAL_ROOTS_LIMIT, ZERO_ROOT } from "../constants.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual, toHex } from "../ssz/codec.ts";
import { type Block, BlockBody, BlockHeader, type Checkpoint, type State } from "../ssz/types.ts";
import { extendJustifiedSlots } from "./justification.ts";
import { proposerIndexForSlot } from "./slot.ts";

export function processBlockHeader(state: State, block: Block): State {
  const parentHeader = state.latestBlockHeader;
  const parentRoot = BlockHeader.hashTreeRoot(parentHeader);

  if (block.slot !== state.slot) {
    throw new ChainError(
      RejectionCode.BLOCK_SLOT_MISMATCH,
      `block slot ${block.slot} differs from state slot ${state.slot}`,
      { blockSlot: block.slot, stateSlot: state.slot },
    );
  }
  if (block.slot <= parentHeader.slot) {
    throw new ChainError(
      RejectionCode.BLOCK_OLDER_THAN_LATEST_HEADER,
      `block slot ${block.slot} is not after latest header slot ${parentHeader.slot}`,
    );
  }
  const expectedProposer = proposerIndexForSlot(state.slot, state.validators.length);
  if (block.proposerIndex !== expectedProposer) {
    throw new ChainError(
      RejectionCode.WRONG_PROPOSER,
      `slot ${block.slot} belongs to validator ${expectedProposer}, not ${block.proposerIndex}`,
      { expected: expectedProposer, got: block.proposerIndex },
    );
  }
  if (!bytesEqual(block.parentRoot, parentRoot)) {
    throw new ChainError(
      RejectionCode.PARENT_ROOT_MISMATCH,
      `parent root ${toHex(block.parentRoot)} is not the latest header ${toHex(parentRoot)}`,
    );
  }

  // History holds one root per slot below the block, so its length becomes block.slot.
  const emptySlots = block.slot - parentHeader.slot - 1;
  const historyLength = state.historicalBlockHashes.length + 1 + emptySlots;
  if (historyLength > HISTORICAL_ROOTS_LIMIT) {
    throw new ChainError(
      RejectionCode.SLOT_OUT_OF_RANGE,
      `block slot ${block.slot} would grow the block history past ${HISTORICAL_ROOTS_LIMIT} entries`,
    );
  }

  // Genesis is justified and finalized by definition, so the first block anchors both to it.
  const genesisParent = parentHeader.slot === 0;
  const anchor: Checkpoint = { root: parentRoot, slot: 0 };
  const latestJustified = genesisParent ? anchor : state.latestJustified;
  const latestFinalized = genesisParent ? { ...anchor } : state.latestFinalized;

  const historicalBlockHashes = state.historicalBlockHashes.slice();
  historicalBlockHashes.push(parentRoot);
  for (let i = 0; i < emptySlots; i++) historicalBlockHashes.push(ZERO_ROOT);

  // The block's own slot is not materialized until its header is final, so stop one short.
  const justifiedSlots = extendJustifiedSlots(state.justifiedSlots, latestFinalized.slot, block.slot - 1);

  return {
    ...state,
    latestJustified,
    latestFinalized,
    historicalBlockHashes,
    justifiedSlots,
    latestBlockHeader: {
      slot: block.slot,
      proposerIndex: block.proposerIndex,
      parentRoot,
      // Filled by the next processSlots; a fresh array so no state aliases the shared constant.
      stateRoot: new Uint8Array(32),
      bodyRoot: BlockBody.hashTreeRoot(block.body),
    },
  };
}

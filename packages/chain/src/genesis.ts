// Genesis state, anchor block and fork digest (PROTOCOL.md sections 2-3; leanSpec generate_genesis).
import { BitArray } from "@chainsafe/ssz";
import { ZERO_ROOT } from "./constants.ts";
import { interopSecretKey } from "./crypto/interopKeys.ts";
import { toHex } from "./ssz/codec.ts";
import { type Block, BlockBody, State, type Validator } from "./ssz/types.ts";

export function emptyBody(): BlockBody {
  return { attestations: [] };
}

export function createGenesisState(genesisTime: number, validators: Validator[]): State {
  validators.forEach((v, i) => {
    if (v.index !== i) throw new Error(`validator at position ${i} has index ${v.index}; they must match`);
  });
  return {
    config: { genesisTime },
    slot: 0,
    latestBlockHeader: {
      slot: 0,
      proposerIndex: 0,
      parentRoot: ZERO_ROOT,
      stateRoot: ZERO_ROOT,
      bodyRoot: BlockBody.hashTreeRoot(emptyBody()),
    },
    latestJustified: { root: ZERO_ROOT, slot: 0 },
    latestFinalized: { root: ZERO_ROOT, slot: 0 },
    historicalBlockHashes: [],
    justifiedSlots: BitArray.fromBitLen(0),
    validators,
    justificationsRoots: [],
    justificationsValidators: BitArray.fromBitLen(0),
  };
}

/** The anchor block the fork-choice store starts from: slot 0, committing to the genesis state. */
export function createGenesisBlock(genesisState: State): Block {
  return {
    slot: 0,
    proposerIndex: 0,
    parentRoot: ZERO_ROOT,
    stateRoot: State.hashTreeRoot(genesisState),
    body: emptyBody(),
  };
}

/** fork_digest = hash_tree_root(genesis State)[0:4]. */
export function computeForkDigest(genesisState: State): Uint8Array {
  return State.hashTreeRoot(genesisState).slice(0, 4);
}

/** 8 lowercase hex characters, as used in gossip topics. */
export function forkDigestHex(forkDigest: Uint8Array): string {
  return toHex(forkDigest).slice(2);
}

export function interopValidators(count: number): Validator[] {
  return Array.from({ length: count }, (_, index) => ({
    pubkey: interopSecretKey(index).toPublicKey().toBytes(),
    index,
  }));
}

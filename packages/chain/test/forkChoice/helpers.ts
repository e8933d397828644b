// Shared fixtures for fork-choice and validator tests: a small real chain with real BLS keys.
import { BitArray } from "@chainsafe/ssz";
import { ZERO_ROOT } from "../../src/constants.ts";
import type { SecretKey } from "../../src/crypto/bls.ts";
import { interopSecretKeys } from "../../src/crypto/interopKeys.ts";
import { PubkeyCache } from "../../src/crypto/pubkeyCache.ts";
import { SigningDomains } from "../../src/crypto/signing.ts";
import { ForkChoiceStore } from "../../src/forkChoice/store.ts";
import type { ForkChoiceStoreOptions } from "../../src/forkChoice/storeTypes.ts";
import { computeForkDigest, createGenesisBlock, createGenesisState, interopValidators } from "../../src/genesis.ts";
import {
  type AttestationData,
  Block,
  type Checkpoint,
  type SignedAggregatedAttestation,
  type SignedBlock,
  State,
} from "../../src/ssz/types.ts";
import { proposerIndexForSlot, signBlock, transitionWithoutStateRootCheck } from "../../src/stateTransition/index.ts";
import { aggregateAttestations, signAttestation } from "../../src/validator/attest.ts";

const keyCache: SecretKey[] = [];
export function keysFor(n: number): SecretKey[] {
  if (keyCache.length < n) keyCache.push(...interopSecretKeys(n).slice(keyCache.length));
  return keyCache.slice(0, n);
}

export interface Genesis {
  n: number;
  keys: SecretKey[];
  state: State;
  block: Block;
  root: Uint8Array;
  checkpoint: Checkpoint;
  pubkeys: PubkeyCache;
  domains: SigningDomains;
}

export function makeGenesis(n = 4): Genesis {
  const validators = interopValidators(n);
  const state = createGenesisState(0, validators);
  const block = createGenesisBlock(state);
  const root = Block.hashTreeRoot(block);
  return {
    n,
    keys: keysFor(n),
    state,
    block,
    root,
    checkpoint: { root, slot: 0 },
    pubkeys: new PubkeyCache(validators),
    domains: new SigningDomains(computeForkDigest(state)),
  };
}

export function newStore(g: Genesis, opts?: ForkChoiceStoreOptions): ForkChoiceStore {
  return new ForkChoiceStore(g.state, g.block, g.pubkeys, g.domains, opts);
}

export interface BuiltBlock {
  signed: SignedBlock;
  root: Uint8Array;
  postState: State;
  checkpoint: Checkpoint;
}

/** A correctly signed block at `slot` on `parent`, carrying `aggregates` in order. */
export function buildBlock(
  g: Genesis,
  parent: { postState: State; root: Uint8Array },
  slot: number,
  aggregates: SignedAggregatedAttestation[] = [],
): BuiltBlock {
  const proposerIndex = proposerIndexForSlot(slot, g.n);
  const block: Block = {
    slot,
    proposerIndex,
    parentRoot: parent.root,
    stateRoot: ZERO_ROOT,
    body: { attestations: aggregates.map((a) => ({ aggregationBits: a.aggregationBits, data: a.data })) },
  };
  const postState = transitionWithoutStateRootCheck(parent.postState, block);
  block.stateRoot = State.hashTreeRoot(postState);
  const signature = signBlock(
    block,
    g.keys[proposerIndex] as SecretKey,
    aggregates.map((a) => a.signature),
    g.domains,
  );
  const root = Block.hashTreeRoot(block);
  return { signed: { block, signature }, root, postState, checkpoint: { root, slot } };
}

export function genesisParent(g: Genesis): { postState: State; root: Uint8Array } {
  return { postState: g.state, root: g.root };
}

/** A linear chain of blocks at the given slots on top of `parent`. */
export function buildChain(g: Genesis, parent: { postState: State; root: Uint8Array }, slots: number[]): BuiltBlock[] {
  const out: BuiltBlock[] = [];
  let p = parent;
  for (const slot of slots) {
    const b = buildBlock(g, p, slot);
    out.push(b);
    p = b;
  }
  return out;
}

export function attData(slot: number, head: Checkpoint, target: Checkpoint, source: Checkpoint): AttestationData {
  return { slot, head, target, source };
}

/** A real aggregate of `indices` over `data`. */
export function aggregate(g: Genesis, indices: number[], data: AttestationData): SignedAggregatedAttestation {
  const atts = indices.map((i) => signAttestation(g.keys[i] as SecretKey, i, data, g.domains));
  const [agg] = aggregateAttestations(atts);
  if (agg === undefined) throw new Error("no aggregate");
  return agg;
}

export function bitsOf(indices: number[], len: number): BitArray {
  const b = BitArray.fromBitLen(len);
  for (const i of indices) b.set(i, true);
  return b;
}

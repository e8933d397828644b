// Fixtures for state-transition tests: a genesis of N interop validators and builders for valid
// (optionally signed) blocks on top of any state.
import { BitArray } from "@chainsafe/ssz";
import { aggregateSignatureBytes, type SecretKey } from "../../src/crypto/bls.ts";
import { interopSecretKey } from "../../src/crypto/interopKeys.ts";
import { PubkeyCache } from "../../src/crypto/pubkeyCache.ts";
import { SigningDomains } from "../../src/crypto/signing.ts";
import { ChainError, type RejectionCode } from "../../src/errors.ts";
import { computeForkDigest, createGenesisBlock, createGenesisState, interopValidators } from "../../src/genesis.ts";
import {
  type AggregatedAttestation,
  type AttestationData,
  Block,
  BlockHeader,
  type Checkpoint,
  type SignedBlock,
  State,
} from "../../src/ssz/types.ts";
import {
  processSlots,
  proposerIndexForSlot,
  signBlock,
  transitionWithoutStateRootCheck,
} from "../../src/stateTransition/index.ts";

// Key derivation and public-key decoding dominate fixture cost, so both are shared across tests.
const secretKeys: SecretKey[] = [];
export function secretKeyOf(index: number): SecretKey {
  let key = secretKeys[index];
  if (key === undefined) {
    key = interopSecretKey(index);
    secretKeys[index] = key;
  }
  return key;
}

export interface Fixture {
  n: number;
  genesis: State;
  genesisBlock: Block;
  genesisRoot: Uint8Array;
  genesisCheckpoint: Checkpoint;
  pubkeys: PubkeyCache;
  domains: SigningDomains;
}

const fixtures = new Map<number, Fixture>();
export function makeFixture(n: number): Fixture {
  const cached = fixtures.get(n);
  if (cached !== undefined) return cached;
  const validators = interopValidators(n);
  const genesis = createGenesisState(0, validators);
  const genesisBlock = createGenesisBlock(genesis);
  const genesisRoot = Block.hashTreeRoot(genesisBlock);
  const fixture: Fixture = {
    n,
    genesis,
    genesisBlock,
    genesisRoot,
    genesisCheckpoint: { root: genesisRoot, slot: 0 },
    pubkeys: new PubkeyCache(validators),
    domains: new SigningDomains(computeForkDigest(genesis)),
  };
  fixtures.set(n, fixture);
  return fixture;
}

/** A vote: who attests (indices) to what. `bitLen` defaults to the validator count. */
export interface Vote {
  data: AttestationData;
  indices: number[];
  bitLen?: number;
}

export function bitsOf(indices: readonly number[], bitLen: number): BitArray {
  const bits = BitArray.fromBitLen(bitLen);
  for (const i of indices) bits.set(i, true);
  return bits;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export function voteData(head: Checkpoint, target: Checkpoint, source: Checkpoint, slot = head.slot): AttestationData {
  return { slot, head, target, source };
}

export function toAggregated(fx: Fixture, vote: Vote): AggregatedAttestation {
  return { aggregationBits: bitsOf(vote.indices, vote.bitLen ?? fx.n), data: vote.data };
}

/** The real aggregate of the voters' signatures over the attestation signing root. */
export function voteSignature(fx: Fixture, vote: Vote): Uint8Array {
  const message = fx.domains.attestationSigningRoot(vote.data);
  return aggregateSignatureBytes(vote.indices.map((i) => secretKeyOf(i).sign(message).toBytes()));
}

export interface BuiltBlock {
  block: Block;
  root: Uint8Array;
  postState: State;
  checkpoint: Checkpoint;
}

/** A valid block at `slot` on `parentState`: right proposer, parent and state root. */
export function buildBlock(fx: Fixture, parentState: State, slot: number, votes: readonly Vote[] = []): BuiltBlock {
  const parentRoot = BlockHeader.hashTreeRoot(processSlots(parentState, slot).latestBlockHeader);
  const block: Block = {
    slot,
    proposerIndex: proposerIndexForSlot(slot, fx.n),
    parentRoot,
    stateRoot: new Uint8Array(32),
    body: { attestations: votes.map((v) => toAggregated(fx, v)) },
  };
  const postState = transitionWithoutStateRootCheck(parentState, block);
  block.stateRoot = State.hashTreeRoot(postState);
  const root = Block.hashTreeRoot(block);
  return { block, root, postState, checkpoint: { root, slot } };
}

/** Sign `block` as its proposer; `votes` must be the body's votes in body order. */
export function signBuilt(fx: Fixture, block: Block, votes: readonly Vote[] = []): SignedBlock {
  const signature = signBlock(
    block,
    secretKeyOf(block.proposerIndex),
    votes.map((v) => voteSignature(fx, v)),
    fx.domains,
  );
  return { block, signature };
}

/** Empty blocks at each of `slots`, in order, starting from `state`. */
export function buildChain(fx: Fixture, state: State, slots: readonly number[]): BuiltBlock[] {
  const chain: BuiltBlock[] = [];
  let parent = state;
  for (const slot of slots) {
    const built = buildBlock(fx, parent, slot);
    chain.push(built);
    parent = built.postState;
  }
  return chain;
}

export function isCode(code: RejectionCode): (err: unknown) => boolean {
  return (err: unknown) => {
    if (err instanceof ChainError && err.code === code) return true;
    throw new Error(`expected ChainError ${code}, got ${String(err)}`);
  };
}

export function stateBytes(state: State): string {
  return Buffer.from(State.serialize(state)).toString("hex");
}

export function blockBytes(block: Block): string {
  return Buffer.from(Block.serialize(block)).toString("hex");
}

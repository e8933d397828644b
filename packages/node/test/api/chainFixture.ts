// A small real chain for the API tests: 4 interop validators, a fork-choice store, and a signed
// block at slot 1 whose post-state makes a non-genesis checkpoint-sync anchor.
import type { PublishResult } from "@metronome/api";
import {
  Block,
  buildBlock,
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  ForkChoiceStore,
  INTERVALS_PER_SLOT,
  interopSecretKey,
  interopValidators,
  isChainError,
  PubkeyCache,
  produceBlock,
  type SignedBlock,
  SigningDomains,
  type State,
} from "@metronome/chain";
import type { FinalizedAnchor } from "../../src/api/leanRoutes.ts";
import type { ValidatorBackend } from "../../src/api/validatorRoutes.ts";

export const GENESIS_TIME = 1_000;
export const VALIDATORS = 4;

export interface TestChain {
  genesis: State;
  domains: SigningDomains;
  store: ForkChoiceStore;
  genesisAnchor: FinalizedAnchor;
}

export function makeChain(genesisTime = GENESIS_TIME): TestChain {
  const genesis = createGenesisState(genesisTime, interopValidators(VALIDATORS));
  const domains = new SigningDomains(computeForkDigest(genesis));
  const genesisBlock = createGenesisBlock(genesis);
  const store = new ForkChoiceStore(genesis, genesisBlock, new PubkeyCache(genesis.validators), domains);
  const root = Block.hashTreeRoot(genesisBlock);
  return {
    genesis,
    domains,
    store,
    genesisAnchor: {
      checkpoint: { root, slot: 0 },
      state: genesis,
      block: { block: genesisBlock, signature: new Uint8Array(96) },
    },
  };
}

/** Proposes and imports the slot-1 block; returns it with its post-state as an anchor. */
export function slotOneAnchor(chain: TestChain): FinalizedAnchor {
  const signed: SignedBlock = produceBlock(chain.store, 1, 1, interopSecretKey(1));
  const result = chain.store.onBlock(signed);
  return { checkpoint: { root: result.root, slot: 1 }, state: result.postState, block: signed };
}

/** Moves the store's clock to the given interval of `slot`. */
export function tickTo(chain: TestChain, slot: number, interval = 0): void {
  chain.store.onTick(slot * INTERVALS_PER_SLOT + interval, false);
}

/**
 * The validator routes' backend as beaconNode.ts wires it, over the test chain's real store; every
 * publish answers "imported" without gossiping (tests that record or vary publishes override them).
 */
export function storeValidatorBackend(chain: TestChain): ValidatorBackend {
  const store = chain.store;
  return {
    currentSlot: () => store.currentSlot,
    validatorCount: () => chain.genesis.validators.length,
    validatorPubkey: (i) => chain.genesis.validators[i]?.pubkey,
    attestationSubnetCount: () => 2,
    attestationData: (slot) => store.produceAttestationData(slot),
    produceBlock: (slot, proposer) => buildBlock(store, slot, proposer),
    blockSigningRoot: (block) => chain.domains.blockSigningRoot(block),
    publishBlock: async () => ({ status: "imported" }),
    publishAttestations: async (atts) => atts.map((): PublishResult => ({ status: "imported" })),
  };
}

/** What a recording backend counts: publishes that the store accepted. */
export interface PublishedCounts {
  blocks: number;
  attestations: number;
  attestationIndices: number[];
}

export function emptyPublishedCounts(): PublishedCounts {
  return { blocks: 0, attestations: 0, attestationIndices: [] };
}

/**
 * The wiring beaconNode.ts would do, over a real store: publishes are imported into the store and
 * counted instead of gossiped, and the store's typed refusals come back as "rejected".
 */
export function recordingValidatorBackend(chain: TestChain, published: PublishedCounts): ValidatorBackend {
  const store = chain.store;
  return {
    ...storeValidatorBackend(chain),
    publishBlock: async (signed) => {
      try {
        const result = store.onBlock(signed);
        if (result.alreadyKnown) return { status: "known" };
        published.blocks++;
        return { status: "imported" };
      } catch (err) {
        if (isChainError(err)) return { status: "rejected", code: err.code, message: err.message };
        throw err;
      }
    },
    publishAttestations: async (atts) =>
      atts.map((att): PublishResult => {
        try {
          store.processGossipAttestation(att);
          published.attestations++;
          published.attestationIndices.push(att.validatorIndex);
          return { status: "imported" };
        } catch (err) {
          if (isChainError(err)) return { status: "rejected", code: err.code, message: err.message };
          throw err;
        }
      }),
  };
}

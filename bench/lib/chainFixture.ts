// A realistic pre-state for block-import benchmarks: a chain of real, signed blocks where every
// validator attests each slot, the early aggregates are included (so justification and finality
// have moved and the state carries history), and the last 8 slots' aggregates are withheld so
// the next block carries 8 aggregates with distinct data, each signed by every validator.
import {
  aggregateAttestations,
  Block,
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  ForkChoiceStore,
  INTERVALS_PER_SLOT,
  interopSecretKeys,
  MAX_ATTESTATIONS_DATA,
  PubkeyCache,
  produceBlock,
  proposerIndexForSlot,
  type SecretKey,
  type SignedAggregatedAttestation,
  type SignedBlock,
  SigningDomains,
  State,
  signAttestation,
  signBlock,
  transitionWithoutStateRootCheck,
  ZERO_ROOT,
} from "@metronome/chain";

export interface BlockImportFixture {
  validatorCount: number;
  genesisState: State;
  genesisBlock: Block;
  pubkeys: PubkeyCache;
  domains: SigningDomains;
  /** Blocks at slots 1..block.slot-1, in order. */
  chain: SignedBlock[];
  /** The block under test, carrying MAX_ATTESTATIONS_DATA aggregates. */
  block: SignedBlock;
  parentState: State;
  postState: State;
}

function tickTo(store: ForkChoiceStore, slot: number, interval: number, proposal = false): void {
  store.onTick(slot * INTERVALS_PER_SLOT + interval, proposal);
}

export function buildBlockImportFixture(validatorCount: number, includedSlots: number): BlockImportFixture {
  const keys = interopSecretKeys(validatorCount);
  const validators = keys.map((k, index) => ({ pubkey: k.toPublicKey().toBytes(), index }));
  const genesisState = createGenesisState(0, validators);
  const genesisBlock = createGenesisBlock(genesisState);
  const pubkeys = new PubkeyCache(validators);
  const domains = new SigningDomains(computeForkDigest(genesisState));
  const store = new ForkChoiceStore(genesisState, genesisBlock, pubkeys, domains);
  const everyone = validators.map((v) => v.index);

  const lastSlot = includedSlots + MAX_ATTESTATIONS_DATA - 1;
  const chain: SignedBlock[] = [];
  const withheld: SignedAggregatedAttestation[] = [];
  for (let slot = 0; slot <= lastSlot; slot++) {
    if (slot > 0) {
      tickTo(store, slot, 0, true);
      const proposer = proposerIndexForSlot(slot, validatorCount);
      const signed = produceBlock(store, slot, proposer, keys[proposer] as SecretKey);
      store.onBlock(signed, { verifySignatures: false });
      chain.push(signed);
    }
    tickTo(store, slot, 1);
    const data = store.produceAttestationData(slot);
    const [aggregate] = aggregateAttestations(keys.map((k, i) => signAttestation(k, i, data, domains)));
    if (aggregate === undefined) throw new Error("no aggregate");
    store.onAttestation(data, everyone);
    tickTo(store, slot, 2);
    if (slot < includedSlots) store.addAggregateToPool(aggregate);
    else withheld.push(aggregate);
    tickTo(store, slot, 3);
    tickTo(store, slot, 4);
  }

  const slot = lastSlot + 1;
  tickTo(store, slot, 0, true);
  const parentRoot = store.head.root;
  const parentState = store.getState(parentRoot);
  if (parentState === undefined) throw new Error("head state missing");
  const proposerIndex = proposerIndexForSlot(slot, validatorCount);
  const block: Block = {
    slot,
    proposerIndex,
    parentRoot,
    stateRoot: ZERO_ROOT,
    body: { attestations: withheld.map((a) => ({ aggregationBits: a.aggregationBits, data: a.data })) },
  };
  const postState = transitionWithoutStateRootCheck(parentState, block);
  block.stateRoot = State.hashTreeRoot(postState);
  const signature = signBlock(
    block,
    keys[proposerIndex] as SecretKey,
    withheld.map((a) => a.signature),
    domains,
  );
  return {
    validatorCount,
    genesisState,
    genesisBlock,
    pubkeys,
    domains,
    chain,
    block: { block, signature },
    parentState,
    postState,
  };
}

/** A store that holds the fixture's chain but not the block under test, clocked to its slot. */
export function preImportStore(fx: BlockImportFixture): ForkChoiceStore {
  const store = new ForkChoiceStore(fx.genesisState, fx.genesisBlock, fx.pubkeys, fx.domains);
  for (const b of fx.chain) store.onBlock(b, { verifySignatures: false });
  tickTo(store, fx.block.block.slot, 0, true);
  return store;
}

export function blockRoot(signed: SignedBlock): Uint8Array {
  return Block.hashTreeRoot(signed.block);
}

// Proposer duty (leanSpec validator_duties.produce_block_with_signatures + build_block): build on
// the head, pick pool aggregates the parent chain can use, commit to the post-state, sign.
import type { BitArray } from "@chainsafe/ssz";
import { INTERVALS_PER_SLOT, MAX_ATTESTATIONS_DATA, ZERO_ROOT } from "../constants.ts";
import type { SecretKey } from "../crypto/bls.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import type { ForkChoiceStore } from "../forkChoice/store.ts";
import { bytesEqual, toHex } from "../ssz/codec.ts";
import { attestationDataKey, rootKey } from "../ssz/keys.ts";
import { type Block, type SignedAggregatedAttestation, type SignedBlock, State } from "../ssz/types.ts";
import {
  isJustifiableAfter,
  isSlotJustified,
  liesOnChain,
  processBlock,
  processSlots,
  proposerIndexForSlot,
  signBlock,
  transitionWithoutStateRootCheck,
  unpackJustifications,
} from "../stateTransition/index.ts";

export interface BlockTemplate {
  slot: number;
  proposerIndex: number;
  parentRoot: Uint8Array;
}

function blockWith(template: BlockTemplate, chosen: readonly SignedAggregatedAttestation[]): Block {
  return {
    slot: template.slot,
    proposerIndex: template.proposerIndex,
    parentRoot: template.parentRoot,
    stateRoot: ZERO_ROOT,
    body: { attestations: chosen.map((a) => ({ aggregationBits: a.aggregationBits, data: a.data })) },
  };
}

function justified(justifiedSlots: BitArray, finalizedSlot: number, slot: number): boolean {
  try {
    return isSlotJustified(justifiedSlots, finalizedSlot, slot);
  } catch {
    return false;
  }
}

/**
 * Choose at most MAX_ATTESTATIONS_DATA aggregates, one per distinct data, that the block's own
 * chain can use: source is the chain's current justified checkpoint, every checkpoint is on the
 * chain, the target is justifiable and not yet justified. Greedy by gain: each pick is the
 * aggregate adding the most votes not yet counted for its target (in the parent state's tallies or
 * in earlier picks), newest data first on ties. The 8 data slots are scarce, so an aggregate whose
 * voters are already counted is only taken when nothing adds votes (it still carries head weight).
 * Selection repeats while including votes advances justification (each round can unlock votes
 * built on the newly justified checkpoint).
 */
export function selectBlockAttestations(
  parentState: State,
  template: BlockTemplate,
  candidates: readonly SignedAggregatedAttestation[],
  isKnownBlock: (root: Uint8Array) => boolean,
): SignedAggregatedAttestation[] {
  const validatorCount = parentState.validators.length;
  const usable = candidates
    .map((agg) => ({ agg, participants: agg.aggregationBits.getTrueBitIndexes(), key: attestationDataKey(agg.data) }))
    .filter((c) => c.participants.length > 0 && (c.participants[c.participants.length - 1] as number) < validatorCount);
  if (usable.length === 0) return [];

  const advanced = processSlots(parentState, template.slot);
  // The header alone extends the chain view (history, justified-slot window, genesis anchoring).
  const base = processBlock(advanced, blockWith(template, []));
  const chain = base.historicalBlockHashes;
  let justifiedCp = base.latestJustified;
  let justifiedSlots = base.justifiedSlots;
  let finalizedSlot = base.latestFinalized.slot;
  // Votes already counted per target root: the state's pending tallies plus what we picked.
  const counted = new Map<string, Set<number>>();
  for (const [root, tally] of unpackJustifications(base)) {
    const voters = new Set<number>();
    tally.votes.forEach((v, i) => {
      if (v === 1) voters.add(i);
    });
    counted.set(root, voters);
  }

  const chosen: SignedAggregatedAttestation[] = [];
  const chosenKeys = new Set<string>();
  const isEligible = (c: (typeof usable)[number]): boolean => {
    const { source, target, head } = c.agg.data;
    if (chosenKeys.has(c.key) || !isKnownBlock(head.root)) return false;
    if (source.slot !== justifiedCp.slot || !liesOnChain(c.agg.data, chain)) return false;
    if (!justified(justifiedSlots, finalizedSlot, source.slot)) return false;
    // Genesis self-votes justify nothing but still carry head weight to peers.
    if (source.slot === 0 && target.slot === 0) return true;
    if (target.slot <= source.slot || !isJustifiableAfter(target.slot, finalizedSlot)) return false;
    return !justified(justifiedSlots, finalizedSlot, target.slot);
  };
  const gainOf = (c: (typeof usable)[number]): number => {
    // A genesis self-vote is never tallied: it adds no vote to any justification, only head weight.
    if (c.agg.data.source.slot === 0 && c.agg.data.target.slot === 0) return 0;
    const already = counted.get(rootKey(c.agg.data.target.root));
    if (already === undefined) return c.participants.length;
    let gain = 0;
    for (const i of c.participants) if (!already.has(i)) gain++;
    return gain;
  };

  for (;;) {
    let added = false;
    while (chosen.length < MAX_ATTESTATIONS_DATA) {
      let best: (typeof usable)[number] | null = null;
      let bestGain = -1;
      for (const c of usable) {
        if (!isEligible(c)) continue;
        const gain = gainOf(c);
        if (gain > bestGain || (gain === bestGain && best !== null && c.agg.data.slot > best.agg.data.slot)) {
          best = c;
          bestGain = gain;
        }
      }
      if (best === null) break;
      chosen.push(best.agg);
      chosenKeys.add(best.key);
      added = true;
      const targetKey = rootKey(best.agg.data.target.root);
      const voters = counted.get(targetKey) ?? new Set<number>();
      for (const i of best.participants) voters.add(i);
      counted.set(targetKey, voters);
    }
    if (!added) break;

    const post = processBlock(advanced, blockWith(template, chosen));
    const movedJustified =
      post.latestJustified.slot !== justifiedCp.slot || !bytesEqual(post.latestJustified.root, justifiedCp.root);
    if (!movedJustified && post.latestFinalized.slot === finalizedSlot) break;
    justifiedCp = post.latestJustified;
    justifiedSlots = post.justifiedSlots;
    finalizedSlot = post.latestFinalized.slot;
    if (chosen.length >= MAX_ATTESTATIONS_DATA) break;
  }
  return chosen;
}

export interface ProduceBlockOptions {
  /** Told how long choosing the block's aggregates took (ms) and how many were chosen (metrics). */
  onAttestationsSelected?: (ms: number, count: number) => void;
}

/** An unsigned block and, in body order, each body attestation's aggregate signature. */
export interface UnsignedBlock {
  block: Block;
  attestationSignatures: Uint8Array[];
}

/**
 * leanSpec produce_block_with_signatures without the signing step, and without touching the
 * store: the parent is the head the store would pick once its new votes are accepted
 * (store.proposalHead(), computed on copies), the body takes pool aggregates the parent chain can
 * use, and the state root commits to the post-state. The only store-side effect is its state
 * cache (a parent state evicted by the cap is rebuilt and cached again).
 */
export function buildBlock(
  store: ForkChoiceStore,
  slot: number,
  proposerIndex: number,
  opts: ProduceBlockOptions = {},
): UnsignedBlock {
  const head = store.proposalHead();
  const parentState = store.getState(head.root);
  if (parentState === undefined) {
    throw new ChainError(RejectionCode.UNKNOWN_PARENT_BLOCK, `no state for the head ${toHex(head.root)}`);
  }
  const validatorCount = parentState.validators.length;
  if (validatorCount === 0 || proposerIndex !== proposerIndexForSlot(slot, validatorCount)) {
    throw new ChainError(RejectionCode.WRONG_PROPOSER, `validator ${proposerIndex} does not propose slot ${slot}`);
  }
  if (slot <= head.slot) {
    throw new ChainError(RejectionCode.BLOCK_SLOT_NOT_IN_FUTURE, `slot ${slot} is not after the head's ${head.slot}`);
  }
  const template: BlockTemplate = { slot, proposerIndex, parentRoot: head.root };
  const selectStarted = performance.now();
  const chosen = selectBlockAttestations(parentState, template, store.aggregatePool.values(), (root) =>
    store.hasBlock(root),
  );
  opts.onAttestationsSelected?.(performance.now() - selectStarted, chosen.length);
  const block = blockWith(template, chosen);
  block.stateRoot = State.hashTreeRoot(transitionWithoutStateRootCheck(parentState, block));
  return { block, attestationSignatures: chosen.map((a) => a.signature) };
}

/** A block built for signing (the in-node signer checks its slashing-protection record first). */
export type BuiltBlock = UnsignedBlock;

/**
 * Build and sign the block for `slot` (the simulator's proposer). Like leanSpec, the store is
 * first ticked to the slot start with the proposal signal, which accepts its new votes; the block
 * itself comes from buildBlock. The block is not imported; the caller imports and publishes it.
 */
export function produceBlock(
  store: ForkChoiceStore,
  slot: number,
  proposerIndex: number,
  proposerKey: SecretKey,
  opts: ProduceBlockOptions = {},
): SignedBlock {
  store.onTick(slot * INTERVALS_PER_SLOT, true);
  const { block, attestationSignatures } = buildBlock(store, slot, proposerIndex, opts);
  return { block, signature: signBlock(block, proposerKey, attestationSignatures, store.domains) };
}

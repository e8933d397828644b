// The fork-choice store (PROTOCOL.md section 4, leanSpec fork_choice.py / timeline.py /
// validator_duties.py). Pure logic: the caller supplies time (in intervals since genesis) and
// every input; nothing here does I/O or reads a clock.
import { INTERVALS_PER_SLOT } from "../constants.ts";
import type { PubkeyCache } from "../crypto/pubkeyCache.ts";
import type { SigningDomains } from "../crypto/signing.ts";
import { type RootHex, rootKey } from "../ssz/keys.ts";
import {
  type AttestationData,
  Block,
  type Checkpoint,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  type State,
} from "../ssz/types.ts";
import {
  assertValidBlockBody,
  type StateTransitionObserver,
  stateTransition,
  verifySignedBlock,
} from "../stateTransition/index.ts";
import { AggregatePool, type PoolAddOutcome } from "./aggregatePool.ts";
import { verifySignedAggregatedAttestation, verifySignedAttestation } from "./attestationSignatures.ts";
import { validateAttestationData } from "./attestationValidation.ts";
import { BlockStateStore } from "./blockStateStore.ts";
import type { BlockTreeView } from "./blockTree.ts";
import { computeLmdGhostHead } from "./lmdGhost.ts";
import {
  attestationTarget,
  attestationVote,
  describeHeadChange,
  finalizedOnHeadChain,
  mergedVoteHeads,
  subtreeKeys,
  weightedNodes,
} from "./storeTree.ts";
import {
  type BlockImportOptions,
  type BlockImportResult,
  checkpointOf,
  type ForkChoiceNodeInfo,
  type ForkChoiceStoreOptions,
  type HeadUpdate,
} from "./storeTypes.ts";
import { type VoteCoverageStats, VoteCoverageTally } from "./voteCoverage.ts";
import { toLatestVote, VoteSet } from "./votes.ts";

export class ForkChoiceStore extends BlockStateStore implements BlockTreeView {
  readonly pubkeys: PubkeyCache;
  readonly domains: SigningDomains;
  readonly aggregatePool: AggregatePool;

  private readonly onStateTransition: StateTransitionObserver | undefined;
  private readonly newVotes: VoteSet;
  private readonly knownVotes: VoteSet;
  private readonly validatorCount: number;

  private timeInterval: number;
  private headKey: RootHex;
  private safeTargetKey: RootHex;
  private justified: Checkpoint;
  private finalized: Checkpoint;
  /** Oldest block; every stored block descends from it, so its state is never evicted. */
  private baseKey: RootHex;
  private prunedAtSlot: number;
  /** Something the head depends on changed without a head recomputation. */
  private headDirty = false;
  private readonly coverage = new VoteCoverageTally();

  constructor(
    anchorState: State,
    anchorBlock: Block,
    pubkeys: PubkeyCache,
    domains: SigningDomains,
    opts: ForkChoiceStoreOptions = {},
  ) {
    super(anchorState, anchorBlock, opts.maxBlocks, opts.maxStates);
    this.pubkeys = pubkeys;
    this.domains = domains;
    this.aggregatePool = new AggregatePool(opts.aggregatePool);
    this.onStateTransition = opts.onStateTransition;
    this.validatorCount = anchorState.validators.length;
    this.newVotes = new VoteSet(this.validatorCount);
    this.knownVotes = new VoteSet(this.validatorCount);

    const node = this.anchor;
    this.timeInterval = anchorBlock.slot * INTERVALS_PER_SLOT;
    this.headKey = node.key;
    this.safeTargetKey = node.key;
    this.baseKey = node.key;
    this.justified = checkpointOf(node);
    this.finalized = checkpointOf(node);
    this.prunedAtSlot = anchorBlock.slot;
  }

  // ---- read side -------------------------------------------------------------------------

  /** Intervals since genesis. */
  get time(): number {
    return this.timeInterval;
  }

  get currentSlot(): number {
    return Math.floor(this.timeInterval / INTERVALS_PER_SLOT);
  }

  get head(): Checkpoint {
    return checkpointOf(this.node(this.headKey));
  }

  get safeTarget(): Checkpoint {
    return checkpointOf(this.node(this.safeTargetKey));
  }

  get latestJustified(): Checkpoint {
    return this.justified;
  }

  get latestFinalized(): Checkpoint {
    return this.finalized;
  }

  get newVoteCount(): number {
    return this.newVotes.size;
  }

  get knownVoteCount(): number {
    return this.knownVotes.size;
  }

  /** Honest-vote coverage (voteCoverage.ts): the last slot measured and running totals. */
  get voteCoverage(): VoteCoverageStats {
    return this.coverage.stats();
  }

  /** Latest uncounted ("new") vote of a validator. */
  getNewVote(validatorIndex: number): AttestationData | undefined {
    return this.newVotes.get(validatorIndex);
  }

  /** Latest counted ("known") vote of a validator. */
  getKnownVote(validatorIndex: number): AttestationData | undefined {
    return this.knownVotes.get(validatorIndex);
  }

  getHeadState(): State {
    const state = this.stateOf(this.headKey);
    if (state === undefined) throw new Error("head state unavailable");
    return state;
  }

  /** The tree with each block's counted-vote weight, oldest first (debug endpoint). */
  forkChoiceNodes(): ForkChoiceNodeInfo[] {
    return weightedNodes(this.nodes, this.knownVotes.heads(), this.finalized.slot);
  }

  // ---- attestations ----------------------------------------------------------------------

  /** Gossip rules against this store's tree and clock; throws ChainError. */
  validateAttestationData(data: AttestationData): void {
    validateAttestationData(this, data, this.timeInterval);
  }

  /** Record already validated and verified votes as "new" (uncounted until accepted). */
  onAttestation(data: AttestationData, validatorIndices: readonly number[]): number {
    const vote = toLatestVote(data);
    let recorded = 0;
    for (const index of validatorIndices) if (this.newVotes.record(index, vote)) recorded++;
    return recorded;
  }

  /** Validate, verify and record a single gossip attestation. */
  processGossipAttestation(att: SignedAttestation): void {
    this.validateAttestationData(att.data);
    verifySignedAttestation(this.pubkeys, this.domains, att);
    this.onAttestation(att.data, [att.validatorIndex]);
  }

  /** Validate, verify and record a gossip aggregate; it also joins the block-production pool. */
  processGossipAggregate(agg: SignedAggregatedAttestation): void {
    this.validateAttestationData(agg.data);
    verifySignedAggregatedAttestation(this.pubkeys, this.domains, agg);
    this.onAttestation(agg.data, agg.aggregationBits.getTrueBitIndexes());
    this.addAggregateToPool(agg);
  }

  /** Pool a verified aggregate for block production (stale ones are refused). */
  addAggregateToPool(agg: SignedAggregatedAttestation): PoolAddOutcome {
    if (agg.data.slot <= this.finalized.slot) return "ignored";
    return this.aggregatePool.add(agg);
  }

  // ---- blocks ----------------------------------------------------------------------------

  onBlock(signedBlock: SignedBlock, opts: BlockImportOptions = {}): BlockImportResult {
    const block = signedBlock.block;
    const root = opts.root ?? Block.hashTreeRoot(block);
    const key = rootKey(root);

    if (this.nodes.has(key)) {
      const head = this.head;
      return {
        root,
        postState: this.stateOf(key) as State,
        headUpdate: { oldHead: head, newHead: head, changed: false, reorg: null },
        alreadyKnown: true,
        finalizedAdvanced: false,
      };
    }

    const { parent, parentState } = this.parentForImport(block, this.finalized);

    if (opts.verifySignatures ?? true) verifySignedBlock(this.pubkeys, signedBlock, this.domains);
    else assertValidBlockBody(block);

    const postState = stateTransition(parentState, block, this.onStateTransition);

    const evicted = this.makeRoomForBlock(this.headKey, parent.key);
    if (evicted !== undefined && this.safeTargetKey === evicted.key) this.safeTargetKey = rootKey(this.justified.root);
    const node = this.insert(block, root, postState);
    const finalizedBefore = this.finalized.slot;

    const candidate = postState.latestJustified;
    if (candidate.slot > this.justified.slot && this.nodes.has(rootKey(candidate.root))) {
      this.justified = { root: candidate.root, slot: candidate.slot };
    }

    // The block signature already covered these aggregates, so they count at once.
    for (const att of block.body.attestations) {
      const vote = toLatestVote(att.data);
      for (const index of att.aggregationBits.getTrueBitIndexes()) this.knownVotes.record(index, vote);
    }

    const headUpdate = this.updateHead();
    this.states.enforceCap(node.key);
    return {
      root,
      postState,
      headUpdate,
      alreadyKnown: false,
      finalizedAdvanced: this.finalized.slot > finalizedBefore,
    };
  }

  // ---- time ------------------------------------------------------------------------------

  /**
   * Advance to `interval` one interval at a time, running each interval's duty once. A proposal
   * signal only applies to the target interval. Returns the head changes that happened.
   */
  onTick(interval: number, hasProposal: boolean): HeadUpdate[] {
    if (!Number.isSafeInteger(interval)) throw new RangeError(`invalid interval ${interval}`);
    const changes: HeadUpdate[] = [];
    while (this.timeInterval < interval) {
      this.timeInterval++;
      const phase = this.timeInterval % INTERVALS_PER_SLOT;
      let update: HeadUpdate | null = null;
      if (phase === 0) {
        const lastSlotOfTick = this.timeInterval > interval - INTERVALS_PER_SLOT;
        this.coverage.onSlotStart(this.currentSlot, lastSlotOfTick, this.validatorCount, (i) => this.knownVotes.get(i));
        this.aggregatePool.prune(this.finalized.slot, this.currentSlot);
        if (hasProposal && this.timeInterval === interval) update = this.acceptNewAttestations();
      } else if (phase === 3) {
        this.updateSafeTarget();
      } else if (phase === 4) {
        update = this.acceptNewAttestations();
      }
      if (update?.changed) changes.push(update);
    }
    return changes;
  }

  /** Move "new" votes into the counted set and recompute the head. */
  acceptNewAttestations(): HeadUpdate {
    const changed = this.knownVotes.absorb(this.newVotes);
    if (!changed && !this.headDirty) {
      const head = this.head;
      return { oldHead: head, newHead: head, changed: false, reorg: null };
    }
    return this.updateHead();
  }

  /**
   * The head acceptNewAttestations would pick, computed on copies: the counted votes with the
   * "new" ones merged in (newer slot wins, as VoteSet.absorb does). Nothing in the store changes,
   * so block production for an API caller can see every vote without ticking the store.
   */
  proposalHead(): Checkpoint {
    if (this.newVotes.size === 0 && !this.headDirty) return this.head;
    const key = computeLmdGhostHead({
      nodes: this.nodes,
      startKey: rootKey(this.justified.root),
      votes: mergedVoteHeads(this.knownVotes, this.newVotes),
      finalizedSlot: this.finalized.slot,
    });
    return checkpointOf(this.node(key));
  }

  /** LMD-GHOST from the justified root over counted votes; refreshes finality and prunes. */
  updateHead(): HeadUpdate {
    const oldKey = this.headKey;
    const newKey = computeLmdGhostHead({
      nodes: this.nodes,
      startKey: rootKey(this.justified.root),
      votes: this.knownVotes.heads(),
      finalizedSlot: this.finalized.slot,
    });
    this.headKey = newKey;
    this.headDirty = false;
    const update = describeHeadChange(this.nodes, this.node(oldKey), this.node(newKey), this.finalized);
    this.refreshFinalizedFromHead();
    this.pruneIfFinalized();
    return update;
  }

  /** Deepest block that 2/3 of validators' "new" votes support. */
  updateSafeTarget(): Checkpoint {
    const startKey = rootKey(this.justified.root);
    if (this.newVotes.size === 0) {
      // No child can reach a non-zero threshold without votes.
      this.safeTargetKey = startKey;
    } else {
      this.safeTargetKey = computeLmdGhostHead({
        nodes: this.nodes,
        startKey,
        votes: this.newVotes.heads(),
        finalizedSlot: this.finalized.slot,
        minScore: Math.ceil((this.validatorCount * 2) / 3),
      });
    }
    return this.safeTarget;
  }

  // ---- validator duties ------------------------------------------------------------------

  /** Walk back from the head toward the safe target, then back to a justifiable slot. */
  getAttestationTarget(): Checkpoint {
    const chainFinalizedSlot = this.getHeadState().latestFinalized.slot;
    return attestationTarget(this.nodes, this.headKey, this.safeTargetKey, this.finalized.slot, chainFinalizedSlot);
  }

  /** The vote a validator casts in `slot`: current head, target as above, head state's justified source. */
  produceAttestationData(slot: number): AttestationData {
    return attestationVote(slot, this.head, this.getAttestationTarget(), this.getHeadState().latestJustified);
  }

  // ---- internals -------------------------------------------------------------------------

  /** leanSpec update_head: finality as seen from the head's chain (kept if that block is not stored). */
  private refreshFinalizedFromHead(): void {
    const headState = this.stateOf(this.headKey);
    if (headState === undefined) return;
    const node = finalizedOnHeadChain(this.nodes, this.node(this.headKey), headState.latestFinalized.slot);
    if (node !== undefined && node.key !== rootKey(this.finalized.root)) {
      this.finalized = checkpointOf(node);
      this.headDirty = true;
    }
  }

  /**
   * On finality: keep the finalized block and its descendants, drop everything else (blocks,
   * states, votes whose head no longer lives under it, pool entries). Skipped while the justified
   * checkpoint or head does not descend from the finalized block (an inconsistent view is kept whole).
   */
  private pruneIfFinalized(): void {
    if (this.finalized.slot <= this.prunedAtSlot) return;
    const finalizedKey = rootKey(this.finalized.root);
    const finalizedNode = this.nodes.get(finalizedKey);
    if (finalizedNode === undefined || this.stateOf(finalizedKey) === undefined) return;

    const keep = subtreeKeys(this.nodes, finalizedNode);
    if (!keep.has(rootKey(this.justified.root)) || !keep.has(this.headKey)) return;

    this.retainBlocks(keep);
    this.baseKey = finalizedKey;
    if (!this.nodes.has(this.safeTargetKey)) this.safeTargetKey = finalizedKey;

    const finalizedSlot = this.finalized.slot;
    const lives = (data: AttestationData, headKey: RootHex) => data.head.slot > finalizedSlot && keep.has(headKey);
    this.newVotes.retain((v) => lives(v.data, v.headKey));
    this.knownVotes.retain((v) => lives(v.data, v.headKey));
    this.aggregatePool.prune(finalizedSlot, this.currentSlot, (data) => lives(data, rootKey(data.head.root)));
    this.prunedAtSlot = finalizedSlot;
  }

  protected pinnedStateKeys(): RootHex[] {
    return [this.baseKey, this.headKey, rootKey(this.justified.root), rootKey(this.finalized.root)];
  }
}

// The fork-choice store (PROTOCOL.md section 4, leanSpec fork_choice.py / timeline.py /
// validator_duties.py). Pure logic: the caller supplies time (in intervals since genesis) and
// every input; nothing here does I/O or reads a clock.
import { INTERVALS_PER_SLOT, JUSTIFICATION_LOOKBACK_SLOTS } from "../constants.ts";
import type { PubkeyCache } from "../crypto/pubkeyCache.ts";
import type { SigningDomains } from "../crypto/signing.ts";
import { ChainError, RejectionCode } from "../errors.ts";
import { bytesEqual, toHex } from "../ssz/codec.ts";
import { type RootHex, rootKey } from "../ssz/keys.ts";
import {
  type AttestationData,
  Block,
  type Checkpoint,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  State,
} from "../ssz/types.ts";
import {
  assertValidBlockBody,
  isJustifiableAfter,
  type StateTransitionObserver,
  stateTransition,
  transitionWithoutStateRootCheck,
  verifySignedBlock,
} from "../stateTransition/index.ts";
import { AggregatePool, type AggregatePoolOptions, type PoolAddOutcome } from "./aggregatePool.ts";
import { verifySignedAggregatedAttestation, verifySignedAttestation } from "./attestationSignatures.ts";
import { validateAttestationData } from "./attestationValidation.ts";
import { type BlockSummary, BlockTreeSnapshot, type BlockTreeView } from "./blockTree.ts";
import { computeBlockWeights, computeLmdGhostHead, type GhostNode, type VoteHead } from "./lmdGhost.ts";
import { measureVoteCoverage, type VoteCoverageStats, VoteCoverageTally } from "./voteCoverage.ts";
import { toLatestVote, VoteSet } from "./votes.ts";

/** ~9 hours of 4 s slots without finality before side branches are evicted / imports refused. */
export const DEFAULT_MAX_BLOCKS = 8192;
/** States are the heavy objects; evicted ones are rebuilt by replaying blocks from an ancestor. */
export const DEFAULT_MAX_STATES = 64;

export interface ForkChoiceStoreOptions {
  maxBlocks?: number;
  maxStates?: number;
  aggregatePool?: AggregatePoolOptions;
  /** Told the phase timings of every imported block's state transition (metrics). */
  onStateTransition?: StateTransitionObserver;
}

export interface Reorg {
  /** old head slot - common ancestor slot */
  depth: number;
  commonAncestor: Checkpoint;
}

export interface HeadUpdate {
  oldHead: Checkpoint;
  newHead: Checkpoint;
  changed: boolean;
  /** Set when the new head does not descend from the old one. */
  reorg: Reorg | null;
}

export interface BlockImportResult {
  root: Uint8Array;
  postState: State;
  headUpdate: HeadUpdate;
  /** The block was already in the store; nothing changed. */
  alreadyKnown: boolean;
  /** latestFinalized moved to a higher slot during this import (pruning ran). */
  finalizedAdvanced: boolean;
}

export interface BlockImportOptions {
  /** Default true. False only for blocks whose signature was already checked (own proposal, worker). */
  verifySignatures?: boolean;
  /** The block's root when the caller already hashed it (the node hashes each block once per import). */
  root?: Uint8Array;
}

export interface ForkChoiceNodeInfo {
  root: Uint8Array;
  slot: number;
  parentRoot: Uint8Array;
  weight: number;
}

interface StoredBlock extends GhostNode, BlockSummary {
  key: RootHex;
  block: Block;
}

function checkpointOf(node: StoredBlock): Checkpoint {
  return { root: node.root, slot: node.slot };
}

export class ForkChoiceStore implements BlockTreeView {
  readonly pubkeys: PubkeyCache;
  readonly domains: SigningDomains;
  readonly aggregatePool: AggregatePool;
  readonly maxBlocks: number;
  readonly maxStates: number;

  private readonly onStateTransition: StateTransitionObserver | undefined;
  private readonly nodes = new Map<RootHex, StoredBlock>();
  private readonly states = new Map<RootHex, State>();
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
    if (!bytesEqual(anchorBlock.stateRoot, State.hashTreeRoot(anchorState))) {
      throw new ChainError(RejectionCode.ANCHOR_STATE_ROOT_MISMATCH, "anchor block state root != anchor state root");
    }
    this.pubkeys = pubkeys;
    this.domains = domains;
    this.maxBlocks = Math.max(2, opts.maxBlocks ?? DEFAULT_MAX_BLOCKS);
    this.maxStates = Math.max(4, opts.maxStates ?? DEFAULT_MAX_STATES);
    this.aggregatePool = new AggregatePool(opts.aggregatePool);
    this.onStateTransition = opts.onStateTransition;
    this.validatorCount = anchorState.validators.length;
    this.newVotes = new VoteSet(this.validatorCount);
    this.knownVotes = new VoteSet(this.validatorCount);

    const root = Block.hashTreeRoot(anchorBlock);
    const node = this.insert(anchorBlock, root, anchorState);
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

  get blockCount(): number {
    return this.nodes.size;
  }

  get stateCount(): number {
    return this.states.size;
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

  hasBlock(root: Uint8Array): boolean {
    return this.nodes.has(rootKey(root));
  }

  getBlock(root: Uint8Array): Block | undefined {
    return this.nodes.get(rootKey(root))?.block;
  }

  getBlockSummary(root: Uint8Array): BlockSummary | undefined {
    const node = this.nodes.get(rootKey(root));
    return node === undefined ? undefined : { slot: node.slot, parentRoot: node.parentRoot };
  }

  /** Post-state of a stored block; rebuilt by replay if it was evicted under the state cap. */
  getState(root: Uint8Array): State | undefined {
    return this.stateOf(rootKey(root));
  }

  getHeadState(): State {
    const state = this.stateOf(this.headKey);
    if (state === undefined) throw new Error("head state unavailable");
    return state;
  }

  /** Whether `ancestorRoot` is `descendantRoot` or lies on its parent chain. */
  isAncestor(ancestorRoot: Uint8Array, descendantRoot: Uint8Array): boolean {
    return this.isAncestorKey(rootKey(ancestorRoot), rootKey(descendantRoot));
  }

  /** The block on `root`'s chain at the highest slot <= `slot`. */
  getAncestorAtSlot(root: Uint8Array, slot: number): Checkpoint | undefined {
    let node = this.nodes.get(rootKey(root));
    while (node !== undefined && node.slot > slot) node = this.nodes.get(node.parentKey);
    return node === undefined ? undefined : checkpointOf(node);
  }

  /** A frozen copy of the tree for validation off the main thread. */
  snapshot(): BlockTreeSnapshot {
    return new BlockTreeSnapshot(this.nodes.values());
  }

  /** The tree with each block's counted-vote weight, oldest first (debug endpoint). */
  forkChoiceNodes(): ForkChoiceNodeInfo[] {
    const weights = computeBlockWeights(this.nodes, this.knownVotes.heads(), this.finalized.slot, this.finalized.slot);
    return [...this.nodes.values()]
      .sort((a, b) => a.slot - b.slot)
      .map((n) => ({ root: n.root, slot: n.slot, parentRoot: n.parentRoot, weight: weights.get(n.key) ?? 0 }));
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

    // Checked before the parent: after pruning, a pre-finalized block's parent is never known,
    // and reporting it as an unknown parent would send the node fetching a dead branch.
    if (block.slot <= this.finalized.slot) {
      throw new ChainError(
        RejectionCode.PRE_FINALIZED_SLOT,
        `block slot ${block.slot} <= finalized slot ${this.finalized.slot}`,
      );
    }
    const parent = this.nodes.get(rootKey(block.parentRoot));
    const parentState = parent === undefined ? undefined : this.stateOf(parent.key);
    if (parent === undefined || parentState === undefined) {
      throw new ChainError(RejectionCode.UNKNOWN_PARENT_BLOCK, `unknown parent ${toHex(block.parentRoot)}`, {
        parentRoot: block.parentRoot,
      });
    }
    if (this.conflictsWithFinalized(parent)) {
      throw new ChainError(RejectionCode.PRE_FINALIZED_SLOT, "block does not descend from the finalized block");
    }

    if (opts.verifySignatures ?? true) verifySignedBlock(this.pubkeys, signedBlock, this.domains);
    else assertValidBlockBody(block);

    const postState = stateTransition(parentState, block, this.onStateTransition);

    this.makeRoomForBlock(parent.key);
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
    this.enforceStateCap(node.key);
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
        // Leaving slot s+1: how many slot-s votes were counted. Only in the tick's last slot, so a
        // catch-up after a restart or a stall does not record the slots it skipped through.
        const measured = this.currentSlot - 2;
        if (measured >= 0 && this.timeInterval > interval - INTERVALS_PER_SLOT) {
          this.coverage.record(measureVoteCoverage(measured, this.validatorCount, (i) => this.knownVotes.get(i)));
        }
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
    const merged = new Map<number, { slot: number; vote: VoteHead }>();
    for (const [index, vote] of this.knownVotes.entries()) {
      merged.set(index, { slot: vote.data.slot, vote: { key: vote.headKey, slot: vote.data.head.slot } });
    }
    for (const [index, vote] of this.newVotes.entries()) {
      const held = merged.get(index);
      if (held !== undefined && held.slot >= vote.data.slot) continue;
      merged.set(index, { slot: vote.data.slot, vote: { key: vote.headKey, slot: vote.data.head.slot } });
    }
    const key = computeLmdGhostHead({
      nodes: this.nodes,
      startKey: rootKey(this.justified.root),
      votes: [...merged.values()].map((m) => m.vote),
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
    const update = this.describeHeadChange(oldKey, newKey);
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
    const finalizedSlot = this.finalized.slot;
    const safeSlot = this.nodes.get(this.safeTargetKey)?.slot ?? finalizedSlot;
    const lowerBound = Math.max(safeSlot, finalizedSlot);

    let node = this.node(this.headKey);
    for (let i = 0; i < JUSTIFICATION_LOOKBACK_SLOTS && node.slot > lowerBound; i++) {
      const parent = this.nodes.get(node.parentKey);
      if (parent === undefined) break;
      node = parent;
    }
    // Justifiable as the head's own chain judges it: a block on the head counts a vote only when
    // its target is justifiable after that chain's finalized slot (processAttestations). The
    // store's finalized checkpoint can be ahead of it when an orphaned fork's state finalized a
    // common ancestor; judged by the store's, every vote would get a target no block on the head
    // can count, and justification would stall for good (leanSpec's store takes its finalized
    // checkpoint from the head state, so there the two agree).
    const chainFinalizedSlot = this.getHeadState().latestFinalized.slot;
    while (node.slot > chainFinalizedSlot && !isJustifiableAfter(node.slot, chainFinalizedSlot)) {
      const parent = this.nodes.get(node.parentKey);
      if (parent === undefined) break;
      node = parent;
    }
    return checkpointOf(node);
  }

  /** The vote a validator casts in `slot`: current head, target as above, head state's justified source. */
  produceAttestationData(slot: number): AttestationData {
    const head = this.head;
    let target = this.getAttestationTarget();
    const justified = this.getHeadState().latestJustified;
    // The genesis state's justified checkpoint carries a zero root; the head is that block.
    const source = justified.root.every((b) => b === 0)
      ? { root: head.root, slot: justified.slot }
      : { root: justified.root, slot: justified.slot };
    // A stale safe target (updated at interval 3) can lag a justification imported since;
    // voting source == target keeps the vote valid instead of failing the duty.
    if (target.slot < source.slot) target = source;
    return { slot, head, target, source };
  }

  // ---- internals -------------------------------------------------------------------------

  private node(key: RootHex): StoredBlock {
    const node = this.nodes.get(key);
    if (node === undefined) throw new Error(`block ${key} missing from fork-choice store`);
    return node;
  }

  private insert(block: Block, root: Uint8Array, state: State): StoredBlock {
    const node: StoredBlock = {
      key: rootKey(root),
      root,
      slot: block.slot,
      parentRoot: block.parentRoot,
      parentKey: rootKey(block.parentRoot),
      block,
    };
    this.nodes.set(node.key, node);
    this.states.set(node.key, state);
    return node;
  }

  private isAncestorKey(ancestorKey: RootHex, descendantKey: RootHex): boolean {
    const ancestor = this.nodes.get(ancestorKey);
    if (ancestor === undefined) return false;
    let node = this.nodes.get(descendantKey);
    while (node !== undefined && node.slot > ancestor.slot) node = this.nodes.get(node.parentKey);
    return node !== undefined && node.key === ancestorKey;
  }

  /** True only when `node`'s chain provably misses the finalized block (walking off the tree is not proof). */
  private conflictsWithFinalized(node: StoredBlock): boolean {
    let n: StoredBlock | undefined = node;
    while (n !== undefined && n.slot > this.finalized.slot) n = this.nodes.get(n.parentKey);
    return n !== undefined && !bytesEqual(n.root, this.finalized.root);
  }

  private describeHeadChange(oldKey: RootHex, newKey: RootHex): HeadUpdate {
    const oldNode = this.node(oldKey);
    const newNode = this.node(newKey);
    const update: HeadUpdate = {
      oldHead: checkpointOf(oldNode),
      newHead: checkpointOf(newNode),
      changed: oldKey !== newKey,
      reorg: null,
    };
    if (update.changed && !this.isAncestorKey(oldKey, newKey)) {
      let a: StoredBlock | undefined = oldNode;
      let b: StoredBlock | undefined = newNode;
      while (a !== undefined && b !== undefined && a.key !== b.key) {
        if (a.slot >= b.slot) a = this.nodes.get(a.parentKey);
        else b = this.nodes.get(b.parentKey);
      }
      const common = a !== undefined && b !== undefined ? checkpointOf(a) : this.finalized;
      update.reorg = { depth: oldNode.slot - common.slot, commonAncestor: common };
    }
    return update;
  }

  /** leanSpec update_head: finality as seen from the head's chain (kept if that block is not stored). */
  private refreshFinalizedFromHead(): void {
    const headState = this.stateOf(this.headKey);
    if (headState === undefined) return;
    const slot = headState.latestFinalized.slot;
    let node = this.node(this.headKey);
    while (node.slot > slot) {
      const parent = this.nodes.get(node.parentKey);
      if (parent === undefined) break;
      node = parent;
    }
    if (node.slot === slot && node.key !== rootKey(this.finalized.root)) {
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

    const keep = new Set<RootHex>([finalizedKey]);
    const bySlot = [...this.nodes.values()].filter((n) => n.slot > finalizedNode.slot).sort((a, b) => a.slot - b.slot);
    for (const n of bySlot) if (keep.has(n.parentKey)) keep.add(n.key);
    if (!keep.has(rootKey(this.justified.root)) || !keep.has(this.headKey)) return;

    for (const key of [...this.nodes.keys()]) {
      if (keep.has(key)) continue;
      this.nodes.delete(key);
      this.states.delete(key);
    }
    this.baseKey = finalizedKey;
    if (!this.nodes.has(this.safeTargetKey)) this.safeTargetKey = finalizedKey;

    const finalizedSlot = this.finalized.slot;
    const lives = (data: AttestationData, headKey: RootHex) => data.head.slot > finalizedSlot && keep.has(headKey);
    this.newVotes.retain((v) => lives(v.data, v.headKey));
    this.knownVotes.retain((v) => lives(v.data, v.headKey));
    this.aggregatePool.prune(finalizedSlot, this.currentSlot, (data) => lives(data, rootKey(data.head.root)));
    this.prunedAtSlot = finalizedSlot;
  }

  /**
   * Block cap: at `maxBlocks`, evict the lowest-slot leaf that is off the canonical chain; when
   * every block is canonical (long non-finality), refuse the import with STORE_FULL.
   */
  private makeRoomForBlock(parentKey: RootHex): void {
    if (this.nodes.size < this.maxBlocks) return;
    const canonical = new Set<RootHex>();
    for (let n = this.nodes.get(this.headKey); n !== undefined; n = this.nodes.get(n.parentKey)) canonical.add(n.key);
    const parents = new Set<RootHex>();
    for (const n of this.nodes.values()) parents.add(n.parentKey);
    let victim: StoredBlock | undefined;
    for (const n of this.nodes.values()) {
      if (canonical.has(n.key) || parents.has(n.key) || n.key === parentKey) continue;
      if (victim === undefined || n.slot < victim.slot) victim = n;
    }
    if (victim === undefined) {
      throw new ChainError(RejectionCode.STORE_FULL, `fork-choice store holds ${this.nodes.size} canonical blocks`);
    }
    this.nodes.delete(victim.key);
    this.states.delete(victim.key);
    if (this.safeTargetKey === victim.key) this.safeTargetKey = rootKey(this.justified.root);
  }

  /** State cap: drop the lowest-slot unpinned states; they are rebuilt from an ancestor on demand. */
  private enforceStateCap(alsoPin: RootHex): void {
    if (this.states.size <= this.maxStates) return;
    const pinned = new Set<RootHex>([
      this.baseKey,
      this.headKey,
      alsoPin,
      rootKey(this.justified.root),
      rootKey(this.finalized.root),
    ]);
    const evictable = [...this.states.keys()]
      .filter((k) => !pinned.has(k))
      .map((k) => this.node(k))
      .sort((a, b) => a.slot - b.slot);
    for (const n of evictable) {
      if (this.states.size <= this.maxStates) break;
      this.states.delete(n.key);
    }
  }

  private stateOf(key: RootHex): State | undefined {
    const cached = this.states.get(key);
    if (cached !== undefined) return cached;
    const target = this.nodes.get(key);
    if (target === undefined) return undefined;

    const replay: StoredBlock[] = [];
    let node: StoredBlock | undefined = target;
    let state: State | undefined;
    while (node !== undefined) {
      state = this.states.get(node.key);
      if (state !== undefined) break;
      replay.push(node);
      node = this.nodes.get(node.parentKey);
    }
    if (state === undefined) return undefined;
    // Every stored block passed the full transition once, so replay skips signature and root checks.
    let rebuilt: State = state;
    for (let i = replay.length - 1; i >= 0; i--) {
      rebuilt = transitionWithoutStateRootCheck(rebuilt, (replay[i] as StoredBlock).block);
    }
    this.states.set(key, rebuilt);
    this.enforceStateCap(key);
    return rebuilt;
  }
}

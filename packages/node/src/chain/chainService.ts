// The node's chain: fork-choice store, persistence, orphan blocks, the pending-attestation buffers
// and the block fetcher, wired by the rules of PROTOCOL.md section 6. Main thread only; every
// store mutation goes through here so imports, replays and ticks never interleave.
import {
  assertValidBlockBody,
  Block,
  type Block as BlockValue,
  buildBlock,
  ChainError,
  type Checkpoint,
  classifyAttestationRejection,
  ForkChoiceStore,
  getAggregatedAttestationSignatureSet,
  getAttestationSignatureSet,
  getIndexedBlockSignatureSet,
  type HeadUpdate,
  INTERVALS_PER_SLOT,
  isChainError,
  type ProduceBlockOptions,
  type PubkeyCache,
  RejectionCode,
  type RejectionCode as RejectionCodeValue,
  referencesKnownBlocks,
  type SignatureSet,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  type SigningDomains,
  type StateTransitionTiming,
  type State as StateValue,
  shortRoot,
  type UnsignedBlock,
  verifySignedBlock,
} from "@metronome/chain";
import type { Logger } from "@metronome/common";
import { type AdmissionContext, completeNow, prepareAdmission } from "./attestationAdmission.ts";
import type { BlockSource } from "./chainEvents.ts";
import { ChainReader, type ChainServiceDeps } from "./chainReader.ts";
import { blockWrite, drainAndClose, finalityWrite } from "./chainWrites.ts";
import { emitHeadChange } from "./headChange.ts";
import type {
  AttestationKind,
  AttestationOutcome,
  BeaconChain,
  BlockImportOutcome,
  BlockSignatureVerdict,
  ChainObserver,
  PreparedAttestation,
  PreparedBlock,
} from "./interface.ts";

export type { ChainServiceDeps, OrphanPool } from "./chainReader.ts";
export type {
  AttestationKind,
  AttestationOutcome,
  BeaconChain,
  BlockImportOutcome,
  ChainCounters,
  ChainObserver,
  PreparedAttestation,
} from "./interface.ts";

/**
 * The BeaconChain implementation. Its parts (store, db, buffers, write queue) are public for the
 * chain's own tests and the composition root's wiring only: the rest of the node holds a
 * BeaconChain, and test/architecture checks that no source file outside chain/ reaches into them.
 */
export class ChainService extends ChainReader implements BeaconChain {
  private readonly logger: Logger;
  private readonly fetcher: ChainServiceDeps["fetcher"];
  private readonly onVerifiedAttestation: ((att: SignedAttestation) => void) | undefined;
  private readonly observer: ChainObserver;
  /** The latest finalized checkpoint handed to the write queue (at start: the stored anchor). */
  private lastQueuedFinalized: Checkpoint;
  /** What attestation admission (attestationAdmission.ts) may touch of this chain. */
  private readonly admission: AdmissionContext;

  /** A chain whose fork choice starts from a finalized anchor (genesis, the database's, a checkpoint's). */
  static fromAnchor(
    anchor: {
      state: StateValue;
      block: BlockValue;
      pubkeys: PubkeyCache;
      domains: SigningDomains;
      onStateTransition?: (timing: StateTransitionTiming) => void;
    },
    deps: Omit<ChainServiceDeps, "store">,
  ): ChainService {
    const store = new ForkChoiceStore(anchor.state, anchor.block, anchor.pubkeys, anchor.domains, {
      onStateTransition: anchor.onStateTransition,
    });
    return new ChainService({ ...deps, store });
  }

  constructor(deps: ChainServiceDeps) {
    super(deps);
    this.logger = deps.logger;
    this.fetcher = deps.fetcher;
    this.onVerifiedAttestation = deps.onVerifiedAttestation;
    this.observer = deps.observer ?? {};
    this.lastQueuedFinalized = this.store.latestFinalized;
    this.admission = {
      store: this.store,
      counters: this.counters,
      observer: this.observer,
      reject: (err) => this.reject(err),
      apply: (kind, item) => {
        if (kind === "single") this.applySingle(item as SignedAttestation);
        else this.applyAggregate(item as SignedAggregatedAttestation);
      },
      buffer: (kind, item, reason) => {
        if (kind === "single") this.pendingSingle.add(item as SignedAttestation, reason);
        else this.pendingAggregated.add(item as SignedAggregatedAttestation, reason);
      },
      want: (root) => this.fetcher.want(root, "unknown_attestation_block"),
    };
  }

  // ---- blocks ----------------------------------------------------------------------------

  /**
   * The one block-production path, for the node's own proposer and the validator API alike: an
   * unsigned block on the head the store would pick with its new votes accepted, built on copies
   * (chain's buildBlock). It never mutates fork choice: the in-node proposer needs no tick here
   * because the driver's interval-0 tick (onInterval with the proposal signal) already accepted
   * the new votes, and an API caller must not move the store's clock or votes. May throw ChainError.
   */
  produceBlock(slot: number, proposerIndex: number, opts: ProduceBlockOptions = {}): UnsignedBlock {
    return buildBlock(this.store, slot, proposerIndex, opts);
  }

  /**
   * Imports one block by any path. An unknown parent parks the block and asks the fetcher for the
   * parent; a successful import releases parked children, replays the pending attestations and
   * persists the block.
   */
  importBlock(
    signed: SignedBlock,
    source: BlockSource,
    peer: string | null = null,
    verdict?: BlockSignatureVerdict,
  ): BlockImportOutcome {
    // The write queue's hard bound. Children released below are bounded by the orphan pool
    // instead: refusing them here would strand them (their parent is already known).
    // The root is hashed once (here, or by prepareBlock) and carried through fork choice, the
    // orphan pool, the database write and the events.
    const root = verdict?.root ?? Block.hashTreeRoot(signed.block);
    if (verdict !== undefined && !verdict.valid) {
      return this.rejectBlock(signed, root, RejectionCode.INVALID_BLOCK_SIGNATURE, source, peer);
    }
    if (source !== "restart" && !this.writes.admitsBlock()) {
      return this.store.hasBlock(root) ? { status: "known", root } : { status: "deferred", root };
    }
    const outcome = this.importOne(signed, root, source, peer, verdict?.valid === true);
    if (outcome.status !== "imported") return outcome;
    // Children parked on this block (and their children) can go now; iterative, not recursive.
    const queue = this.orphans.takeChildren(outcome.root);
    while (queue.length > 0) {
      const child = queue.shift();
      if (!child) break;
      // Parked only after its signature checked out (orphanCheckFailure): not verified twice.
      const childOutcome = this.importOne(child.block, child.root, source, child.peer, true);
      if (childOutcome.status === "imported") queue.push(...this.orphans.takeChildren(childOutcome.root));
    }
    return outcome;
  }

  prepareBlock(signed: SignedBlock, source: BlockSource, peer: string | null = null): PreparedBlock {
    const root = Block.hashTreeRoot(signed.block);
    if (this.store.hasBlock(root)) return { kind: "done", outcome: { status: "known", root } };
    try {
      assertValidBlockBody(signed.block);
      return { kind: "verify", root, set: getIndexedBlockSignatureSet(this.store.pubkeys, signed, this.store.domains) };
    } catch (err) {
      if (!(err instanceof ChainError)) throw err;
      return { kind: "done", outcome: this.rejectBlock(signed, root, err.code, source, peer) };
    }
  }

  private rejectBlock(
    signed: SignedBlock,
    root: Uint8Array,
    code: RejectionCodeValue,
    source: BlockSource,
    peer: string | null,
  ): BlockImportOutcome {
    this.counters.blocksInvalid++;
    this.logger.warn("invalid block", { slot: signed.block.slot, root: shortRoot(root), code, source, peer });
    return { status: "invalid", root, code };
  }

  /** The rejection code of a block that fails the parent-free checks, null when it passes. */
  private orphanCheckFailure(signed: SignedBlock): RejectionCodeValue | null {
    try {
      verifySignedBlock(this.store.pubkeys, signed, this.store.domains);
      return null;
    } catch (err) {
      if (err instanceof ChainError) return err.code;
      throw err;
    }
  }

  private importOne(
    signed: SignedBlock,
    root: Uint8Array,
    source: BlockSource,
    peer: string | null,
    signatureChecked = false,
  ): BlockImportOutcome {
    const block = signed.block;
    if (this.store.hasBlock(root)) return { status: "known", root };
    let result: ReturnType<ForkChoiceStore["onBlock"]>;
    try {
      // Own proposals were signed here and checked while building.
      result = this.store.onBlock(signed, {
        verifySignatures: !signatureChecked && source !== "own_proposal" && source !== "restart",
        root,
      });
    } catch (err) {
      if (isChainError(err, RejectionCode.UNKNOWN_PARENT_BLOCK)) {
        // The signature (proposer and body votes; the validator set is fixed at genesis) and the
        // body's structure are checkable without the parent: a junk block is rejected here, not
        // cached while its parent is fetched from the network on its sender's word.
        const unchecked = !signatureChecked && source !== "own_proposal" && source !== "restart";
        const failure = unchecked ? this.orphanCheckFailure(signed) : null;
        if (failure !== null) {
          this.counters.blocksInvalid++;
          this.logger.warn("invalid orphan block", { slot: block.slot, root: shortRoot(root), code: failure, peer });
          return { status: "invalid", root, code: failure };
        }
        this.orphans.add(signed, peer, root);
        this.counters.blocksOrphaned++;
        this.fetcher.want(block.parentRoot, "unknown_parent");
        return { status: "orphan", root, parentRoot: block.parentRoot };
      }
      if (isChainError(err, RejectionCode.PRE_FINALIZED_SLOT)) return { status: "pre_finalized", root };
      if (err instanceof ChainError) return this.rejectBlock(signed, root, err.code, source, peer);
      this.counters.blocksInvalid++;
      this.logger.error("block import failed unexpectedly", { slot: block.slot }, err);
      return { status: "invalid", root, code: "INTERNAL" };
    }
    if (result.alreadyKnown) return { status: "known", root };

    this.counters.blocksImported++;
    this.fetcher.onBlockImported(root);
    if (source !== "restart") this.persistBlock(root, signed);
    this.events.emit("block", { slot: block.slot, root, source });
    this.afterHeadChange(result.headUpdate);
    if (result.finalizedAdvanced) this.onFinalized();
    this.replayPending();
    return { status: "imported", root };
  }

  // ---- attestations ----------------------------------------------------------------------
  //
  // Admission is split in two so signature checks can leave the main thread: `prepare*` runs the
  // protocol's structural checks against the store (cheap lookups) and returns the signature set
  // to verify; `complete` applies the verdict once the set has been verified (by the worker pool,
  // or synchronously). A rejection before verification never costs a pairing.

  prepareAttestation(att: SignedAttestation): PreparedAttestation {
    return this.prepare("single", att, att.data, () =>
      getAttestationSignatureSet(this.store.pubkeys, this.store.domains, att),
    );
  }

  prepareAggregate(agg: SignedAggregatedAttestation): PreparedAttestation {
    return this.prepare("aggregated", agg, agg.data, () =>
      getAggregatedAttestationSignatureSet(this.store.pubkeys, this.store.domains, agg),
    );
  }

  /**
   * Validate, verify (here, synchronously) and count one single attestation. `trusted`: this node
   * signed it a moment ago, so the pairing check is skipped (the structural checks still run).
   */
  onAttestation(att: SignedAttestation, opts: { trusted?: boolean } = {}): AttestationOutcome {
    return completeNow(this.prepareAttestation(att), opts.trusted === true);
  }

  /** As onAttestation, for an aggregate; it also joins the block pool. */
  onAggregate(agg: SignedAggregatedAttestation, opts: { trusted?: boolean } = {}): AttestationOutcome {
    return completeNow(this.prepareAggregate(agg), opts.trusted === true);
  }

  private prepare(
    kind: AttestationKind,
    item: SignedAttestation | SignedAggregatedAttestation,
    data: SignedAttestation["data"],
    signatureSet: () => SignatureSet,
  ): PreparedAttestation {
    return prepareAdmission(this.admission, kind, item, data, signatureSet);
  }

  private applySingle(att: SignedAttestation): void {
    this.store.onAttestation(att.data, [att.validatorIndex]);
    this.onVerifiedAttestation?.(att);
    this.counters.attestationsAccepted++;
    this.events.emit("attestation", {
      validatorIndices: [att.validatorIndex],
      data: att.data,
      signature: att.signature,
      aggregated: false,
    });
  }

  private applyAggregate(agg: SignedAggregatedAttestation): void {
    const participants = agg.aggregationBits.getTrueBitIndexes();
    this.store.onAttestation(agg.data, participants);
    this.store.addAggregateToPool(agg);
    this.counters.attestationsAccepted++;
    this.events.emit("attestation", {
      validatorIndices: participants,
      data: agg.data,
      signature: agg.signature,
      aggregated: true,
    });
  }

  private reject(err: unknown): AttestationOutcome {
    const code: RejectionCodeValue = err instanceof ChainError ? err.code : RejectionCode.DECODE_ERROR;
    this.counters.attestationsRejected[code] = (this.counters.attestationsRejected[code] ?? 0) + 1;
    return { status: "rejected", code };
  }

  /** After every successful import: buffered attestations whose block may now be known. */
  private replayPending(): void {
    // Buffered entries were signature-checked before buffering.
    this.pendingSingle.replay((att) => this.replayOne(att.data, () => this.applySingle(att)));
    this.pendingAggregated.replay((agg) => this.replayOne(agg.data, () => this.applyAggregate(agg)));
  }

  private replayOne(data: SignedAttestation["data"], apply: () => void): "accepted" | "rebuffer" | "drop" {
    // Most entries still wait for their block: keep them without building a rejection.
    if (!referencesKnownBlocks(this.store, data)) return "rebuffer";
    try {
      this.store.validateAttestationData(data);
    } catch (err) {
      return classifyAttestationRejection(err, data, this.store.time).kind === "retry" ? "rebuffer" : "drop";
    }
    apply();
    return "accepted";
  }

  // ---- time ------------------------------------------------------------------------------

  /** Advances the store to `interval`, running each interval's fork-choice duty once. */
  onInterval(interval: number, hasProposal: boolean): void {
    this.tick(interval, hasProposal);
    // Near-future attestations become valid as each slot starts.
    if (interval % INTERVALS_PER_SLOT === 0) this.replayPending();
  }

  prepareProposal(slot: number): void {
    this.tick(slot * INTERVALS_PER_SLOT, true);
  }

  private tick(interval: number, hasProposal: boolean): void {
    const finalizedBefore = this.store.latestFinalized.slot;
    for (const update of this.store.onTick(interval, hasProposal)) this.afterHeadChange(update);
    if (this.store.latestFinalized.slot > finalizedBefore) this.onFinalized();
  }

  // ---- events and persistence ------------------------------------------------------------

  private afterHeadChange(update: HeadUpdate): void {
    emitHeadChange(this.events, this.store, this.logger, update);
  }

  /**
   * Finality moved in the store: emit the event now, and queue ONE database batch (index, anchor
   * state, anchor pointer, pruning). A later finality replaces a queued one (its batch indexes
   * the whole canonical chain down to the stored anchor, so nothing of the skipped range is lost).
   */
  private onFinalized(): void {
    const finalized = this.store.latestFinalized;
    if (finalized.slot <= this.lastQueuedFinalized.slot) return;
    this.lastQueuedFinalized = finalized;
    const state = this.store.getState(finalized.root);
    const block = this.store.getBlock(finalized.root);
    this.events.emit("finalized_checkpoint", {
      checkpoint: finalized,
      stateRoot: block?.stateRoot ?? new Uint8Array(32),
    });
    this.orphans.pruneFinalized(finalized.slot);
    if (state === undefined) {
      this.logger.error("finalized state missing from the store; anchor not persisted", { slot: finalized.slot });
      return;
    }
    this.writes.pushFinality(finalityWrite(this.db, this.logger, finalized, state));
  }

  private persistBlock(root: Uint8Array, signed: SignedBlock): void {
    this.writes.pushBlock(blockWrite(this.db, root, signed));
  }

  /** False while the write queue is past its back-pressure mark: block import should wait. */
  acceptsBlocks(): boolean {
    return this.writes.acceptsImports();
  }

  onWriteRoom(listener: () => void): void {
    this.writes.onRoom(listener);
  }

  get queuedWrites(): number {
    return this.writes.size;
  }

  /** Resolves once every queued database write has landed (tests). */
  async flush(): Promise<void> {
    await this.writes.idle();
  }

  /**
   * Shutdown: waits up to `timeoutMs` for the queue to drain, then stops retrying. Whatever is
   * abandoned is recovered on the next start (blocks refetched, finality recomputed).
   */
  async closeWrites(timeoutMs: number): Promise<number> {
    return drainAndClose(this.writes, timeoutMs, this.logger);
  }
}

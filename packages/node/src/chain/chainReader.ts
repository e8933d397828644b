// The read side of the chain service: the parts it is built from and every BeaconChain query and
// statistic, each a plain lookup in the store, the database or a buffer. ChainService extends this
// with the commands (import, votes, ticks, persistence); split so each file reads on its own.
import type {
  AttestationData,
  Block as BlockValue,
  Checkpoint,
  ForkChoiceNodeInfo,
  ForkChoiceStore,
  SignedAggregatedAttestation,
  SignedAttestation,
  SignedBlock,
  SigningDomains,
  VoteCoverageStats,
} from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { Anchor, ChainDb } from "../db/chainDb.ts";
import { WriteQueue, type WriteQueueLimits, type WriteQueueStats } from "../db/writeQueue.ts";
import type { BlockFetcher } from "../runtime/blockFetcher.ts";
import type { PendingAttestationBuffer, PendingBufferStats, PendingKind } from "../runtime/pendingBuffer.ts";
import type { ChainEvents } from "./chainEvents.ts";
import type { ChainCounters, ChainObserver, ChainQueries, ChainStats, OrphanPoolStats } from "./interface.ts";

/**
 * Where blocks with an unknown parent wait (sync/orphanBlocks.ts implements it). Declared here so
 * the chain depends on no sync module: sync depends on the chain, never the reverse.
 */
export interface OrphanPool {
  readonly size: number;
  stats(): OrphanPoolStats;
  add(block: SignedBlock, peer: string | null, root: Uint8Array): unknown;
  /** Removes and returns the parked children of `parentRoot`, lowest slot first. */
  takeChildren(parentRoot: Uint8Array): { root: Uint8Array; block: SignedBlock; peer: string | null }[];
  pruneFinalized(finalizedSlot: number): number;
}

export interface ChainServiceDeps {
  store: ForkChoiceStore;
  db: ChainDb;
  events: ChainEvents;
  logger: Logger;
  fetcher: Pick<BlockFetcher, "want" | "onBlockImported">;
  pendingSingle: PendingAttestationBuffer<SignedAttestation>;
  pendingAggregated: PendingAttestationBuffer<SignedAggregatedAttestation>;
  orphans: OrphanPool;
  /** Called with every verified single attestation (the aggregator collects them). */
  onVerifiedAttestation?: (att: SignedAttestation) => void;
  observer?: ChainObserver;
  /** Bounds and retry timing of the database write queue (defaults in writeQueue.ts). */
  writeLimits?: Partial<WriteQueueLimits>;
}

/** The chain's parts and its queries; see ChainService for the commands. */
export abstract class ChainReader implements ChainQueries, ChainStats {
  readonly store: ForkChoiceStore;
  readonly db: ChainDb;
  readonly events: ChainEvents;
  readonly orphans: OrphanPool;
  readonly pendingSingle: PendingAttestationBuffer<SignedAttestation>;
  readonly pendingAggregated: PendingAttestationBuffer<SignedAggregatedAttestation>;
  readonly counters: ChainCounters = {
    blocksImported: 0,
    blocksInvalid: 0,
    blocksOrphaned: 0,
    attestationsAccepted: 0,
    attestationsRejected: {},
    signatures: { single: { valid: 0, invalid: 0 }, aggregated: { valid: 0, invalid: 0 } },
  };
  /** Database writes: blocks then finality, one at a time, bounded, retried (see writeQueue.ts). */
  readonly writes: WriteQueue;

  constructor(deps: ChainServiceDeps) {
    this.store = deps.store;
    this.db = deps.db;
    this.events = deps.events;
    this.orphans = deps.orphans;
    this.pendingSingle = deps.pendingSingle;
    this.pendingAggregated = deps.pendingAggregated;
    this.writes = new WriteQueue(deps.logger, deps.writeLimits);
  }

  // ---- queries ---------------------------------------------------------------------------

  get head(): Checkpoint {
    return this.store.head;
  }

  get justified(): Checkpoint {
    return this.store.latestJustified;
  }

  get finalized(): Checkpoint {
    return this.store.latestFinalized;
  }

  get safeTarget(): Checkpoint {
    return this.store.safeTarget;
  }

  get storeInterval(): number {
    return this.store.time;
  }

  get storeSlot(): number {
    return this.store.currentSlot;
  }

  get domains(): SigningDomains {
    return this.store.domains;
  }

  validatorCount(): number {
    return this.store.pubkeys.size;
  }

  hasBlock(root: Uint8Array): boolean {
    return this.store.hasBlock(root);
  }

  aggregateAlreadyKnown(agg: SignedAggregatedAttestation): boolean {
    return this.store.aggregatePool.covers(agg.data, agg.aggregationBits);
  }

  getBlock(root: Uint8Array): BlockValue | undefined {
    return this.store.getBlock(root);
  }

  ancestorAtSlot(root: Uint8Array, slot: number): Checkpoint | undefined {
    return this.store.getAncestorAtSlot(root, slot);
  }

  forkChoiceNodes(): readonly ForkChoiceNodeInfo[] {
    return this.store.forkChoiceNodes();
  }

  attestationData(slot: number): AttestationData {
    return this.store.produceAttestationData(slot);
  }

  signedBlock(root: Uint8Array): Promise<SignedBlock | null> {
    return this.db.getBlock(root);
  }

  finalizedRoots(start: number, count: number): Promise<{ slot: number; root: Uint8Array }[]> {
    return this.db.finalizedRoots(start, count);
  }

  finalizedRootAt(slot: number): Promise<Uint8Array | null> {
    return this.db.getFinalizedRoot(slot);
  }

  finalizedAnchor(): Promise<Anchor | null> {
    return this.db.getAnchor();
  }

  // ---- stats -----------------------------------------------------------------------------

  writeStats(): WriteQueueStats {
    return this.writes.stats();
  }

  pendingStats(kind: PendingKind): PendingBufferStats {
    return (kind === "single" ? this.pendingSingle : this.pendingAggregated).stats();
  }

  get orphanStats(): OrphanPoolStats {
    return this.orphans.stats();
  }

  get aggregatePoolSize(): number {
    return this.store.aggregatePool.size;
  }

  get newVoteCount(): number {
    return this.store.newVoteCount;
  }

  get voteCoverage(): VoteCoverageStats {
    return this.store.voteCoverage;
  }
}

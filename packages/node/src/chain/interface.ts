// What the rest of the node may ask of the chain (in the spirit of Lodestar's IBeaconChain). Sync,
// duties, gossip ingress, the HTTP API, health, the slot logger and the metrics bridge see only this
// interface: they read through the queries, change the chain only through the commands, and learn
// of changes through the events. The fork-choice store and the database behind it stay inside
// chain/, so one file says what can mutate fork choice and everything else can be read in isolation.
import type {
  AttestationData,
  Block,
  Checkpoint,
  ForkChoiceNodeInfo,
  IndexedBlockSignatureSet,
  ProduceBlockOptions,
  RejectionCode,
  SignatureSet,
  SignedAggregatedAttestation,
  SignedAttestation,
  SignedBlock,
  SigningDomains,
  UnsignedBlock,
  VoteCoverageStats,
} from "@metronome/chain";
import type { Anchor } from "../db/chainDb.ts";
import type { WriteQueueStats } from "../db/writeQueue.ts";
import type { PendingBufferStats, PendingKind } from "../runtime/pendingBuffer.ts";
import type { BlockSource, ChainEventSource } from "./chainEvents.ts";

export type BlockImportOutcome =
  | { status: "imported"; root: Uint8Array }
  | { status: "known"; root: Uint8Array }
  | { status: "orphan"; root: Uint8Array; parentRoot: Uint8Array }
  | { status: "pre_finalized"; root: Uint8Array }
  /** The database write queue is at its bound: not imported, the block can come again. */
  | { status: "deferred"; root: Uint8Array }
  | { status: "invalid"; root: Uint8Array; code: RejectionCode | "INTERNAL" };

export type AttestationOutcome =
  | { status: "accepted" }
  | { status: "buffered"; reason: "unknown_block" | "future_slot" }
  | { status: "rejected"; code: RejectionCode };

/**
 * A block past its parent-free checks (known? body well-formed? signers in the registry?): done,
 * or its signature set to verify off the driver thread before importBlock is given the verdict.
 */
export type PreparedBlock =
  | { kind: "done"; outcome: BlockImportOutcome }
  | { kind: "verify"; root: Uint8Array; set: IndexedBlockSignatureSet };

/** A block's signature verdict from elsewhere (the chain worker), with the root prepareBlock hashed. */
export interface BlockSignatureVerdict {
  root: Uint8Array;
  valid: boolean;
}

export type AttestationKind = "single" | "aggregated";

/** An attestation past its structural checks: done, or waiting for its signature verdict. */
export type PreparedAttestation =
  | { kind: "done"; outcome: AttestationOutcome }
  | {
      kind: "verify";
      set: SignatureSet;
      /** `verified`: false when the check was skipped (own, trusted vote); such a verdict is not counted. */
      complete: (valid: boolean, verified?: boolean) => AttestationOutcome;
    };

/**
 * Timing observations for the attestation histograms. Called for every attestation, so an
 * implementation must stay O(1) (the metrics bridge samples).
 */
export interface ChainObserver {
  /** The structural checks of one attestation (signature-set lookup, data validation). */
  attestationValidated?(seconds: number): void;
  /** A signature's verdict arrived `seconds` after the checks handed it to the verifier. */
  signatureVerified?(kind: AttestationKind, seconds: number): void;
}

/** Counters read by metrics and the health route. */
export interface ChainCounters {
  blocksImported: number;
  blocksInvalid: number;
  blocksOrphaned: number;
  attestationsAccepted: number;
  attestationsRejected: Record<string, number>;
  /** Signature verdicts by kind; trusted (own) votes are not checked and not counted. */
  signatures: Record<AttestationKind, { valid: number; invalid: number }>;
}

/** Read-only views of the chain: fork choice, the blocks it holds and the finalized history. */
export interface ChainQueries {
  /** The fork-choice head. */
  readonly head: Checkpoint;
  readonly justified: Checkpoint;
  readonly finalized: Checkpoint;
  readonly safeTarget: Checkpoint;
  /** The interval the fork-choice store's clock has reached (its `time`). */
  readonly storeInterval: number;
  /** The slot the fork-choice store's clock is in. */
  readonly storeSlot: number;
  /** Signing domains of this chain's fork digest (for signing roots; immutable). */
  readonly domains: SigningDomains;
  /** Size of the validator registry (fixed at genesis). */
  validatorCount(): number;
  /** Whether fork choice holds this block (orphans waiting for a parent are not held). */
  hasBlock(root: Uint8Array): boolean;
  /**
   * Whether the aggregate held for `agg`'s data already has every participant of `agg`: it would
   * add no vote (gossip IGNOREs it before any signature work; see GossipIngress).
   */
  aggregateAlreadyKnown(agg: SignedAggregatedAttestation): boolean;
  /** A block fork choice holds (everything above the finalized block). */
  getBlock(root: Uint8Array): Block | undefined;
  /** The block at the highest slot <= `slot` on `root`'s chain, while fork choice still holds it. */
  ancestorAtSlot(root: Uint8Array, slot: number): Checkpoint | undefined;
  /** The fork-choice tree with counted-vote weights. */
  forkChoiceNodes(): readonly ForkChoiceNodeInfo[];
  /** The vote for `slot` as fork choice produces it now; may throw ChainError. */
  attestationData(slot: number): AttestationData;
  /** A stored signed block by root (the database: finalized history and recent blocks alike). */
  signedBlock(root: Uint8Array): Promise<SignedBlock | null>;
  /** The finalized index: canonical roots in [start, start + count), ascending. */
  finalizedRoots(start: number, count: number): Promise<{ slot: number; root: Uint8Array }[]>;
  /** The finalized canonical root at exactly `slot`, or null. */
  finalizedRootAt(slot: number): Promise<Uint8Array | null>;
  /** The stored finalized anchor (state and block), or null before one is persisted. */
  finalizedAnchor(): Promise<Anchor | null>;
}

/** What the orphan pool holds and what its caps refused or evicted (running totals). */
export interface OrphanPoolStats {
  blocks: number;
  bytes: number;
  /** Evicted (oldest first) because the count cap was reached. */
  evictedForCount: number;
  /** Evicted because the byte cap was reached. */
  evictedForBytes: number;
  /** Refused because one block alone is over the byte cap. */
  refusedTooLarge: number;
}

/** Numbers for metrics, health and logs; every call is cheap (no walk over the chain). */
export interface ChainStats {
  readonly counters: ChainCounters;
  writeStats(): WriteQueueStats;
  pendingStats(kind: PendingKind): PendingBufferStats;
  /** Blocks with an unknown parent held while it is fetched, and the caps' evictions. */
  readonly orphanStats: OrphanPoolStats;
  /** Aggregates held for block production. */
  readonly aggregatePoolSize: number;
  /** Votes received but not yet counted by fork choice. */
  readonly newVoteCount: number;
  /** Honest-vote coverage measured by fork choice once per slot (flood benchmark, issue 15). */
  readonly voteCoverage: VoteCoverageStats;
}

/** The only ways to change the chain. Main thread only; none of them interleave. */
export interface ChainCommands {
  /**
   * Imports one block by any path; its root is hashed once here and carried. Given a `verdict`
   * (from prepareBlock's set, verified elsewhere) the signature is not checked again: an invalid
   * one rejects the block, a valid one skips the pairings on this thread.
   */
  importBlock(
    signed: SignedBlock,
    source: BlockSource,
    peer?: string | null,
    verdict?: BlockSignatureVerdict,
  ): BlockImportOutcome;
  /** The checks a block passes before its signature: cheap, on this thread; see PreparedBlock. */
  prepareBlock(signed: SignedBlock, source: BlockSource, peer?: string | null): PreparedBlock;
  /** False while the database write queue is past its back-pressure mark: block import should wait. */
  acceptsBlocks(): boolean;
  /** Calls `listener` whenever the write queue regains room after back-pressure. */
  onWriteRoom(listener: () => void): void;
  /** Structural checks of a single vote; the signature set comes back to verify elsewhere. */
  prepareAttestation(att: SignedAttestation): PreparedAttestation;
  prepareAggregate(agg: SignedAggregatedAttestation): PreparedAttestation;
  /** Validate, verify here and apply one vote; `trusted`: signed by this node a moment ago. */
  onAttestation(att: SignedAttestation, opts?: { trusted?: boolean }): AttestationOutcome;
  onAggregate(agg: SignedAggregatedAttestation, opts?: { trusted?: boolean }): AttestationOutcome;
  /** The one block-production path (in-node proposer and validator API); never mutates fork choice. */
  produceBlock(slot: number, proposerIndex: number, opts?: ProduceBlockOptions): UnsignedBlock;
  /**
   * PROTOCOL.md section 1: before proposing `slot`, the proposer's store accepts its new votes
   * (leanSpec's tick to the slot's interval 0 with the proposal signal). A no-op when the driver's
   * interval-0 tick already did it.
   */
  prepareProposal(slot: number): void;
  /** Advances fork choice to `interval`, running each interval's duty once. */
  onInterval(interval: number, hasProposal: boolean): void;
  /** Resolves once every queued database write has landed. */
  flush(): Promise<void>;
  /** Shutdown: waits up to `timeoutMs` for queued writes, then abandons the rest; returns how many. */
  closeWrites(timeoutMs: number): Promise<number>;
}

export interface BeaconChain extends ChainQueries, ChainStats, ChainCommands {
  /** Block, head, reorg, checkpoint and attestation events (listeners run synchronously). */
  readonly events: ChainEventSource;
}

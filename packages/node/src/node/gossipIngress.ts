// Network ingress: O(1) work per gossip message (sync gate, far-future drop, enqueue into a
// bounded per-kind queue). The driver drains the queues one bounded batch per pass, so a flood
// can fill queues and be dropped, but can never delay the interval tick.

import type { BlsVerifier, SignatureSetInput } from "@metronome/bls";
import { MainThreadVerifier, verifierSignatureSet } from "@metronome/bls";
import {
  CLOCK_DISPARITY_MS,
  INTERVALS_PER_SLOT,
  isTooFarInFuture,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
} from "@metronome/chain";
import type { SlotClock } from "@metronome/clock";
import type { Logger } from "@metronome/common";
import type { GossipVerdict, INetwork } from "@metronome/network";
import type { BlockSource } from "../chain/chainEvents.ts";
import type {
  AttestationKind,
  AttestationOutcome,
  BeaconChain,
  BlockImportOutcome,
  PreparedAttestation,
} from "../chain/interface.ts";
import type { DriverWork } from "../driver/driver.ts";
import { BoundedQueue } from "../runtime/boundedQueue.ts";
import { LaneHolds } from "../runtime/laneHolds.ts";
import { PeerFairQueue } from "../runtime/peerFairQueue.ts";
import type { SyncService } from "../sync/syncService.ts";

interface Pending<T> {
  value: T;
  peer: string | null;
  done: (verdict: GossipVerdict) => void;
}

interface BlockItem extends Pending<SignedBlock> {
  source: BlockSource;
}

/**
 * A block whose signature is with the verifier, or back from it, waiting its turn to import.
 * `verdict` null: still with the verifier; "here": to be checked on this thread at import (no key
 * table, or the verifier could not answer).
 */
interface BlockCheck {
  item: BlockItem;
  root: Uint8Array | null;
  verdict: boolean | "here" | null;
}

/** A vote whose signature the verifier has answered, waiting for a pass to apply the verdict. */
interface VerifiedItem {
  done: (verdict: GossipVerdict) => void;
  complete: (valid: boolean) => AttestationOutcome;
  valid: boolean;
}

export interface QueueLimits {
  blocks: number;
  aggregates: number;
  attestations: number;
  /** One peer's share of an attestation queue: a flooding peer is held to this. */
  perPeer: number;
  /** Peers with their own lane in an attestation queue; later ones share one lane. */
  maxPeers: number;
  /** Blocks handled per pass: each costs a state transition and a signature check. */
  blocksPerPass: number;
  /**
   * Blocks whose signatures may be with the verifier at once, imported in arrival order as their
   * verdicts come back. Two passes' worth keeps the verifier busy while the oldest one waits. In
   * bytes it is bounded by the gossip topic's block size limit (MAX_VALID_SIGNED_BLOCK_SIZE, a few
   * KiB): these are blocks taken from the block queue, not more of them.
   */
  blocksInVerification: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = {
  blocks: 1024,
  aggregates: 1024,
  attestations: 4096,
  perPeer: 1024,
  maxPeers: 64,
  blocksPerPass: 4,
  blocksInVerification: 8,
};

export type DropReason = "idle" | "future_slot" | "queue_full";
/**
 * An aggregate may also be dropped as already known: every participant is in the aggregate held
 * for its data (a non-strict superset was verified before), so it would add no vote.
 */
export type AggregateDropReason = DropReason | "already_known";

export class GossipIngress implements DriverWork {
  readonly blocks: BoundedQueue<BlockItem>;
  readonly aggregates: PeerFairQueue<Pending<SignedAggregatedAttestation>>;
  readonly attestations: PeerFairQueue<Pending<SignedAttestation>>;
  /** Attestation drops on the receive path, by kind and reason (metronome_gossip_attestations_dropped_total). */
  readonly drops: { single: Record<DropReason, number>; aggregated: Record<AggregateDropReason, number> } = {
    single: { idle: 0, future_slot: 0, queue_full: 0 },
    aggregated: { idle: 0, future_slot: 0, queue_full: 0, already_known: 0 },
  };
  /** Signature sets handed to the verifier and not yet answered. */
  inVerification = 0;
  /** Items the verifier refused or abandoned (queue full, shutdown), or verified with no room left to wait. */
  verifierDrops = 0;
  /** Gossip blocks from a slot that has not started yet, ignored on arrival. */
  futureBlocks = 0;
  /** Block signatures the verifier could not answer (shut down, worker failed): checked at import instead. */
  blockSignatureFallbacks = 0;
  /**
   * Asks the network to hold a peer whose attestation lane overflowed (laneHolds.ts); set by
   * register(), so an ingress fed only by tests and the API holds nobody.
   */
  private laneHolds: LaneHolds | null = null;
  readonly outcomes = { blocks: {} as Record<string, number>, attestations: {} as Record<string, number> };
  private readonly chain: BeaconChain;
  private readonly sync: SyncService;
  private readonly clock: SlotClock;
  private readonly logger: Logger;
  private readonly limits: QueueLimits;
  private notify: () => void = () => {};
  private readonly onBlockProcessed: (seconds: number) => void;
  private readonly verifier: BlsVerifier;
  /** Which attestation kind goes first this pass: they alternate so neither starves the other. */
  private aggregatesFirst = true;
  /**
   * Verified votes not yet applied, FIFO. Applying one (fork choice, the aggregate pool's signature
   * merge, events) costs up to ~0.3 ms, so they are applied by the driver, one bounded batch per
   * pass, not all in the callback that brings a batch's verdicts: a 64-set batch applied there held
   * the thread 50-100 ms under a valid-signature flood, and several batches can finish in one turn.
   * What bounds it in practice is the verifier's queue: while votes wait here, that many fewer new
   * sets are handed to it (runAttestationBatch). Its own capacity, the two attestation queues
   * together, is only a backstop; a vote refused there is ignored and counted in verifierDrops.
   */
  private readonly verified: BoundedQueue<VerifiedItem>;
  /**
   * Blocks past their cheap checks, oldest first, bounded by limits.blocksInVerification. Their
   * signatures (a pairing per attestation in the body: 30-90 ms of the driver thread under a
   * valid-signature flood) are verified by the chain worker; the driver imports the oldest once
   * its verdict is back, so blocks still import in the order they arrived.
   */
  private readonly blockChecks: BlockCheck[] = [];

  constructor(opts: {
    chain: BeaconChain;
    sync: SyncService;
    clock: SlotClock;
    logger: Logger;
    limits?: Partial<QueueLimits>;
    /** Observes each block's import time in seconds (fork-choice block processing histogram). */
    onBlockProcessed?: (seconds: number) => void;
    /** Where attestation signatures are checked; the main thread when not given. */
    verifier?: BlsVerifier;
  }) {
    this.verifier = opts.verifier ?? new MainThreadVerifier();
    this.onBlockProcessed = opts.onBlockProcessed ?? (() => {});
    this.chain = opts.chain;
    this.sync = opts.sync;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.limits = { ...DEFAULT_QUEUE_LIMITS, ...opts.limits };
    // Blocks are never dropped for attestations' sake: their own queue, FIFO, refusing only when
    // 1024 blocks are already waiting. Attestations wait in per-peer lanes served round-robin,
    // newest first within a lane (the freshest votes matter most): a flooding peer fills and
    // loses its own lane while the honest peers' votes still come out within a pass or two.
    this.blocks = new BoundedQueue({
      capacity: this.limits.blocks,
      policy: "drop_newest",
      onDrop: (item) => item.done("ignore"),
    });
    this.aggregates = new PeerFairQueue({
      capacity: this.limits.aggregates,
      perPeerCapacity: this.limits.perPeer,
      maxPeers: this.limits.maxPeers,
      onDrop: (item) => {
        this.drops.aggregated.queue_full++;
        item.done("ignore");
        this.laneHolds?.overflowed("aggregation", item.peer);
      },
    });
    this.verified = new BoundedQueue({
      capacity: this.limits.attestations + this.limits.aggregates,
      policy: "drop_newest",
      onDrop: (item) => {
        this.verifierDrops++;
        item.done("ignore");
      },
    });
    this.attestations = new PeerFairQueue({
      capacity: this.limits.attestations,
      perPeerCapacity: this.limits.perPeer,
      maxPeers: this.limits.maxPeers,
      onDrop: (item) => {
        this.drops.single.queue_full++;
        item.done("ignore");
        this.laneHolds?.overflowed("attestation", item.peer);
      },
    });
  }

  attachDriver(driver: { notify(): void }): void {
    this.notify = () => driver.notify();
  }

  /**
   * A queued attestation is work only once the verifier has room. While it is full, waking the
   * driver per message would run thousands of empty passes a second under a flood; each verdict
   * that frees room wakes it instead.
   */
  private notifyIfVerifierHasRoom(): void {
    if (this.verifierRoom() > 0) this.notify();
  }

  register(network: INetwork): void {
    this.laneHolds = new LaneHolds({ send: (kind, peer, ms) => network.holdGossip(kind, peer, ms) });
    network.setGossipHandler("block", (block, info) => this.enqueueBlock(block, "gossip", info.peer));
    network.setGossipHandler("attestation", (att, info) => this.enqueueAttestation(att, info.peer));
    network.setGossipHandler("aggregation", (agg, info) => this.enqueueAggregate(agg, info.peer));
  }

  enqueueBlock(block: SignedBlock, source: BlockSource, peer: string | null): GossipVerdict | Promise<GossipVerdict> {
    // A block from a slot that has not started yet (beyond the clock disparity) waits for nobody:
    // its proposer will publish it again, or peers serve it once its slot has come.
    if (block.block.slot > this.clock.slotAt(this.clock.now() + CLOCK_DISPARITY_MS)) {
      this.futureBlocks++;
      return "ignore";
    }
    return new Promise((done) => {
      this.blocks.push({ value: block, peer, source, done });
      this.notify();
    });
  }

  /** Range-synced blocks: resolves when the whole batch has been processed (sync's backpressure). */
  async submitBlocks(blocks: SignedBlock[], source: BlockSource, peer: string): Promise<void> {
    await Promise.all(blocks.map(async (b) => this.enqueueBlock(b, source, peer)));
  }

  enqueueAttestation(att: SignedAttestation, peer: string | null): GossipVerdict | Promise<GossipVerdict> {
    const gate = this.gate(att.data, "single");
    if (gate !== null) return gate;
    return new Promise((done) => {
      this.attestations.push(peer, { value: att, peer, done });
      this.notifyIfVerifierHasRoom();
    });
  }

  enqueueAggregate(agg: SignedAggregatedAttestation, peer: string | null): GossipVerdict | Promise<GossipVerdict> {
    const gate = this.gate(agg.data, "aggregated");
    if (gate !== null) return gate;
    return new Promise((done) => {
      this.aggregates.push(peer, { value: agg, peer, done });
      this.notifyIfVerifierHasRoom();
    });
  }

  /** The receive-path checks: O(1), before any lookup or signature work. */
  private gate(data: SignedAttestation["data"], kind: "single" | "aggregated"): GossipVerdict | null {
    if (!this.sync.tracker.acceptsAttestations) {
      this.drops[kind].idle++;
      return "ignore";
    }
    // Beyond the next slot can never become valid soon enough to be worth buffering. An honest
    // peer's clock would have dropped it too, so the forwarder is charged (not a REJECT: our own
    // clock could be the wrong one).
    const interval = this.clock.currentInterval();
    const nextSlotStart = (Math.floor(interval / INTERVALS_PER_SLOT) + 1) * INTERVALS_PER_SLOT;
    if (isTooFarInFuture(data, nextSlotStart)) {
      this.drops[kind].future_slot++;
      return "ignore_penalise";
    }
    return null;
  }

  /** Work this pass can make progress on: attestations wait while the verifier is full. */
  hasWork(): boolean {
    if (this.hasBlockWork() && this.chain.acceptsBlocks()) return true;
    if (this.verifiedWaiting > 0) return true;
    return (this.aggregates.size > 0 || this.attestations.size > 0) && this.verifierRoom() > 0;
  }

  /** Verified votes waiting to be applied. */
  get verifiedWaiting(): number {
    return this.verified.size;
  }

  /** Sets the verifier may take now, less the verified votes still waiting to be applied. */
  private verifierRoom(): number {
    return this.verifier.capacityLeft() - this.verifiedWaiting;
  }

  /** Applies up to `max` verified votes, oldest first; returns how many. */
  private applyVerified(max: number): number {
    const batch = this.verified.popBatch(max);
    for (const v of batch) v.done(this.attestationVerdict(v.complete(v.valid)));
    return batch.length;
  }

  /**
   * One bounded batch: blocks first (importing those whose signature verdicts are back, else
   * sending queued ones to the verifier); otherwise attestations, the two kinds taking turns at going
   * first and the first one taking at most half the room while the other kind waits (a flood of
   * aggregates must not starve the single votes an aggregator needs, nor the reverse).
   */
  runBatch(maxItems: number): number {
    // Blocks wait in their bounded queue while the database write queue is past its back-pressure
    // mark (the driver is woken when room returns); attestations go on meanwhile.
    if (this.hasBlockWork() && this.chain.acceptsBlocks()) {
      const blocksMax = Math.min(maxItems, this.limits.blocksPerPass);
      const imported = this.importCheckedBlocks(blocksMax);
      if (imported > 0) return imported;
      const started = this.startBlockChecks(blocksMax);
      if (started > 0) return started;
    }
    // Verdicts already paid for go before new work: they free the verifier's room and settle votes.
    if (this.verifiedWaiting > 0) return this.applyVerified(maxItems);
    const first: AttestationKind = this.aggregatesFirst ? "aggregated" : "single";
    const second: AttestationKind = this.aggregatesFirst ? "single" : "aggregated";
    this.aggregatesFirst = !this.aggregatesFirst;
    const firstShare = this.queued(second) > 0 ? Math.ceil(maxItems / 2) : maxItems;
    const done = this.queued(first) > 0 ? this.runKind(first, firstShare) : 0;
    return this.queued(second) > 0 && done < maxItems ? done + this.runKind(second, maxItems - done) : done;
  }

  /** Blocks whose signatures are with the verifier or waiting to import (metronome_queue_depth{queue="block_signature"}). */
  get blocksInVerification(): number {
    return this.blockChecks.length;
  }

  /** A block to import (its verdict is back) or to send to the verifier (there is room). */
  private hasBlockWork(): boolean {
    return this.blockVerdictReady() || (this.blocks.size > 0 && this.blockCheckRoom() > 0);
  }

  private blockVerdictReady(): boolean {
    const head = this.blockChecks[0];
    return head !== undefined && head.verdict !== null;
  }

  private blockCheckRoom(): number {
    return this.limits.blocksInVerification - this.blockChecks.length;
  }

  /** Imports, oldest first, the blocks whose verdicts are back; stops at the first still out. */
  private importCheckedBlocks(max: number): number {
    let n = 0;
    while (n < max && this.blockVerdictReady()) {
      this.importChecked(this.blockChecks.shift() as BlockCheck);
      n++;
    }
    return n;
  }

  private importChecked({ item, root, verdict }: BlockCheck): void {
    const started = performance.now();
    const outcome =
      typeof verdict === "boolean" && root !== null
        ? this.chain.importBlock(item.value, item.source, item.peer, { root, valid: verdict })
        : this.chain.importBlock(item.value, item.source, item.peer);
    if (outcome.status === "imported") this.onBlockProcessed((performance.now() - started) / 1000);
    item.done(this.blockVerdict(outcome));
  }

  /**
   * Runs the cheap checks of queued blocks and hands their signatures to the verifier, as many as
   * there is room for. Without the validators' keys the verifier cannot check a block's signature:
   * it is then checked at import, on this thread, as before.
   */
  private startBlockChecks(max: number): number {
    if (this.blocks.size === 0 || this.blockCheckRoom() <= 0) return 0;
    const batch = this.blocks.popBatch(Math.min(max, this.blockCheckRoom()));
    for (const item of batch) {
      if (this.verifier.validatorCount() === 0) {
        // A verifier's table never changes, so without one no block ever waits in the line:
        // each is imported (and its signature checked) now, in arrival order.
        this.importChecked({ item, root: null, verdict: "here" });
        continue;
      }
      const prepared = this.chain.prepareBlock(item.value, item.source, item.peer);
      if (prepared.kind === "done") {
        item.done(this.blockVerdict(prepared.outcome));
        continue;
      }
      const check: BlockCheck = { item, root: prepared.root, verdict: null };
      this.blockChecks.push(check);
      this.verifier.verifyAggregateSignature(prepared.set).then(
        (valid) => {
          check.verdict = valid;
          this.notify();
        },
        () => {
          this.blockSignatureFallbacks++;
          check.verdict = "here";
          this.notify();
        },
      );
    }
    return batch.length;
  }

  private queued(kind: AttestationKind): number {
    return kind === "aggregated" ? this.aggregates.size : this.attestations.size;
  }

  private runKind(kind: AttestationKind, max: number): number {
    return kind === "aggregated"
      ? this.runAttestationBatch(this.aggregates, max, (v) => this.prepareAggregate(v))
      : this.runAttestationBatch(this.attestations, max, (v) => this.chain.prepareAttestation(v));
  }

  /**
   * An aggregate that adds no participant to the one held for its data is IGNOREd before its
   * structural checks and signature set (as real clients do: a non-strict superset already seen).
   * Checked when it leaves the queue, not on arrival: the superset may have been verified while it
   * waited, and only aggregates the verifier has room for pay for the data root this hashes.
   * IGNORE, not REJECT: honest aggregators publish overlapping aggregates all the time.
   */
  private prepareAggregate(agg: SignedAggregatedAttestation): PreparedAttestation | "already_known" {
    if (this.chain.aggregateAlreadyKnown(agg)) return "already_known";
    return this.chain.prepareAggregate(agg);
  }

  /**
   * Structural checks run here, on the main thread; the signature sets go to the verifier (the
   * worker pool) and the votes are applied when its verdicts come back. Only as many items are
   * taken as the verifier can accept: the rest wait in the bounded queue, where its drop policy
   * decides what a flood loses.
   */
  private runAttestationBatch<T>(
    queue: PeerFairQueue<Pending<T>>,
    maxItems: number,
    prepare: (value: T) => PreparedAttestation | "already_known",
  ): number {
    const room = this.verifierRoom();
    if (room <= 0) return 0;
    const batch = queue.popBatch(Math.min(maxItems, room));
    const waiting: { item: Pending<T>; complete: (valid: boolean) => AttestationOutcome }[] = [];
    const sets: SignatureSetInput[] = [];
    for (const item of batch) {
      const prepared = prepare(item.value);
      if (prepared === "already_known") {
        this.drops.aggregated.already_known++;
        item.done("ignore");
        continue;
      }
      if (prepared.kind === "done") {
        item.done(this.attestationVerdict(prepared.outcome));
        continue;
      }
      waiting.push({ item, complete: prepared.complete });
      sets.push(verifierSignatureSet(this.verifier, prepared.set));
    }
    if (sets.length > 0) {
      this.inVerification += sets.length;
      this.verifier.verifySets(sets).then(
        (results) => {
          this.inVerification -= sets.length;
          waiting.forEach((w, i) => {
            this.verified.push({ done: w.item.done, complete: w.complete, valid: results[i] === true });
          });
          this.notify();
        },
        () => {
          // Refused (queue full) or shut down: nothing was verified, so nothing is counted as valid.
          this.inVerification -= sets.length;
          this.verifierDrops += waiting.length;
          for (const w of waiting) w.item.done("ignore");
          this.notify();
        },
      );
    }
    return batch.length;
  }

  dropCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const kind of ["single", "aggregated"] as const) {
      for (const [reason, n] of Object.entries(this.drops[kind])) out[`${kind}_${reason}`] = n;
    }
    out.future_blocks = this.futureBlocks;
    out.block_signature_fallback = this.blockSignatureFallbacks;
    out.verifier_dropped = this.verifierDrops;
    out.lane_holds = this.laneHolds?.sent ?? 0;
    for (const [status, n] of Object.entries(this.outcomes.attestations)) out[`attestation_${status}`] = n;
    for (const [status, n] of Object.entries(this.outcomes.blocks)) out[`block_${status}`] = n;
    return out;
  }

  private blockVerdict(outcome: BlockImportOutcome): GossipVerdict {
    this.outcomes.blocks[outcome.status] = (this.outcomes.blocks[outcome.status] ?? 0) + 1;
    if (outcome.status === "imported") return "accept";
    if (outcome.status === "invalid") {
      this.logger.debug("rejecting invalid gossip block", { code: outcome.code });
      return "reject";
    }
    return "ignore";
  }

  private attestationVerdict(outcome: AttestationOutcome): GossipVerdict {
    const key = outcome.status === "rejected" ? outcome.code : outcome.status;
    this.outcomes.attestations[key] = (this.outcomes.attestations[key] ?? 0) + 1;
    if (outcome.status === "accepted") return "accept";
    if (outcome.status === "buffered") return "ignore";
    return outcome.code === "INVALID_SIGNATURE" || outcome.code === "VALIDATOR_INDEX_OUT_OF_RANGE"
      ? "reject"
      : "ignore";
  }
}

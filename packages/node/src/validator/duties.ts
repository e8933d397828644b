// The node's own validators: propose at interval 0, attest at interval 1, aggregate at interval 2
// (PROTOCOL.md section 1). Each duty runs once per slot; keys are the devnet interop keys.
// Blocks and votes are built, passed through the SigningGuard (doppelganger wait, then the
// slashing-protection record, synced), and only then signed, imported and published. Aggregates
// carry other validators' signatures and are not signed with a key here.
import {
  ATTESTATION_COMMITTEE_COUNT,
  aggregateAttestations,
  attestationDataKey,
  type BuiltBlock,
  interopSecretKey,
  isProposer,
  type SecretKey,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  shortRoot,
  signAttestation,
  signBlock,
} from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { BeaconChain } from "../chain/interface.ts";
import type { AttestationCollector } from "./attestationCollector.ts";
import type { SigningGuard } from "./signingGuard.ts";

export interface DutyPublisher {
  publishBlock(block: SignedBlock): Promise<unknown>;
  publishAttestation(subnet: number, att: SignedAttestation): Promise<unknown>;
  publishAggregate(agg: SignedAggregatedAttestation): Promise<unknown>;
}

export interface DutyCounters {
  blocksProposed: number;
  blockProposalFailures: number;
  /** Proposals not signed: refused by slashing protection or the doppelganger wait. */
  blockProposalsRefused: number;
  /** Attestations not signed: refused by slashing protection or the doppelganger wait. */
  attestationsRefused: number;
  /** Attestations signed (lean_pq_sig_attestation_signatures_total). */
  attestationsProduced: number;
  /** Aggregates published (a rebuilt aggregate no larger than the last one is not). */
  aggregatesProduced: number;
  /** Aggregate signatures built, published or not (lean_pq_sig_aggregated_signatures_total). */
  aggregatesBuilt: number;
  /** Single votes folded into those aggregates. */
  attestationsAggregated: number;
  /** Aggregation cycles that did not aggregate, by lean_aggregator_skipped_total reason. */
  aggregationSkipped: { not_aggregator: number; other: number };
}

/**
 * Event-time observations for the histograms (called a few times per slot, never per gossip
 * message); every argument in seconds unless named otherwise.
 */
export interface DutyObserver {
  /** A block was built (produceBlock) carrying `attestations` aggregates. */
  blockBuilt?(seconds: number, attestations: number): void;
  /** Choosing the aggregates for a block being built. */
  blockAttestationsSelected?(seconds: number): void;
  attestationSigned?(seconds: number): void;
  /** The attester duty of one slot: vote data, signatures, own import. */
  attestationsProduced?(seconds: number): void;
  /** One aggregate signature built from the single votes of one data. */
  aggregateBuilt?(seconds: number): void;
  /** One aggregation cycle: every aggregate of the slot. */
  aggregationCycle?(seconds: number): void;
}

export function emptyDutyCounters(): DutyCounters {
  return {
    blocksProposed: 0,
    blockProposalFailures: 0,
    blockProposalsRefused: 0,
    attestationsRefused: 0,
    attestationsProduced: 0,
    aggregatesProduced: 0,
    aggregatesBuilt: 0,
    attestationsAggregated: 0,
    aggregationSkipped: { not_aggregator: 0, other: 0 },
  };
}

function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}

export class ValidatorDuties {
  readonly indices: number[];
  readonly isAggregator: boolean;
  readonly counters: DutyCounters = emptyDutyCounters();
  private readonly keys: Map<number, SecretKey>;
  private readonly chain: BeaconChain;
  private readonly publisher: DutyPublisher;
  private readonly collector: AttestationCollector;
  private readonly logger: Logger;
  private readonly subnetCount: number;
  private readonly observer: DutyObserver;
  private readonly guard: SigningGuard;
  /** Duties awaiting their slashing-protection write (at most the two of one slot, in practice). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Participant count of the aggregate published per data key (pruned to recent slots). */
  private readonly published = new Map<string, { slot: number; count: number }>();

  constructor(opts: {
    indices: number[];
    isAggregator: boolean;
    chain: BeaconChain;
    publisher: DutyPublisher;
    collector: AttestationCollector;
    logger: Logger;
    subnetCount?: number;
    observer?: DutyObserver;
    /** Every signature is approved here first (slashing protection, doppelganger wait). */
    guard: SigningGuard;
  }) {
    this.indices = [...opts.indices].sort((a, b) => a - b);
    this.isAggregator = opts.isAggregator;
    this.keys = new Map(this.indices.map((i) => [i, interopSecretKey(i)]));
    this.chain = opts.chain;
    this.publisher = opts.publisher;
    this.collector = opts.collector;
    this.logger = opts.logger;
    this.subnetCount = opts.subnetCount ?? ATTESTATION_COMMITTEE_COUNT;
    this.observer = opts.observer ?? {};
    this.guard = opts.guard;
  }

  /** Verified single votes the aggregator holds until it aggregates them (lean_gossip_signatures). */
  get heldVotes(): number {
    return this.collector.size;
  }

  /** Whether one of our validators proposes `slot` (the store then accepts new votes first). */
  proposerFor(slot: number): number | null {
    const count = this.chain.validatorCount();
    for (const i of this.indices) if (isProposer(slot, i, count)) return i;
    return null;
  }

  /** The proposer duty of `slot`; never rejects (failures are logged and counted). */
  propose(slot: number): Promise<void> {
    return this.track(this.proposeNow(slot), "proposal", slot);
  }

  /** The attester duty of `slot` for every validator; never rejects. */
  attest(slot: number): Promise<void> {
    return this.track(this.attestNow(slot), "attestation", slot);
  }

  /** Resolves when no proposal or attestation is between its approval and its publish. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>, what: string, slot: number): Promise<void> {
    const done = work.catch((err: unknown) => this.logger.error(`${what} duty failed`, { slot }, err));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  private async proposeNow(slot: number): Promise<void> {
    const proposer = this.proposerFor(slot);
    if (proposer === null) return;
    const key = this.keys.get(proposer);
    if (!key) return;
    let built: BuiltBlock;
    const started = performance.now();
    try {
      // PROTOCOL.md: the proposer's own store first accepts its new votes (leanSpec's tick with the
      // proposal signal); the block itself is built by the chain's one pure producer.
      this.chain.prepareProposal(slot);
      built = this.chain.produceBlock(slot, proposer, {
        onAttestationsSelected: (ms) => this.observer.blockAttestationsSelected?.(ms / 1000),
      });
    } catch (err) {
      this.counters.blockProposalFailures++;
      this.logger.error("block production failed", { slot, proposer }, err);
      return;
    }
    const domains = this.chain.domains;
    const signingRoot = domains.blockSigningRoot(built.block);
    const builtAt = performance.now();
    const [approved] = await this.guard.approve("block", [{ validatorIndex: proposer, slot, signingRoot }]);
    const guardMs = performance.now() - builtAt;
    if (approved !== true) {
      this.counters.blockProposalsRefused++;
      return;
    }
    let block: SignedBlock;
    try {
      block = { block: built.block, signature: signBlock(built.block, key, built.attestationSignatures, domains) };
      this.observer.blockBuilt?.(secondsSince(started), block.block.body.attestations.length);
    } catch (err) {
      this.counters.blockProposalFailures++;
      this.logger.error("block signing failed", { slot, proposer }, err);
      return;
    }
    // Published before our own import (as Lighthouse does): the block is built on our head and
    // already signed, and every millisecond before peers see it is one they vote without it. The
    // network thread sends it while this thread imports.
    this.fireAndLog(this.publisher.publishBlock(block), "publish block");
    const outcome = this.chain.importBlock(block, "own_proposal");
    if (outcome.status !== "imported") {
      this.counters.blockProposalFailures++;
      this.logger.error("own block did not import (already published)", { slot, status: outcome.status });
      return;
    }
    this.counters.blocksProposed++;
    // Where a late proposal's time went: building, or waiting for the slashing-protection record.
    this.logger.info("proposed block", {
      slot,
      root: shortRoot(outcome.root),
      attestations: block.block.body.attestations.length,
      build_ms: Math.round(builtAt - started),
      guard_ms: Math.round(guardMs),
    });
  }

  private async attestNow(slot: number): Promise<void> {
    if (this.indices.length === 0) return;
    const started = performance.now();
    const data = this.chain.attestationData(slot);
    const signingRoot = this.chain.domains.attestationSigningRoot(data);
    const signers = this.indices.filter((index) => this.keys.has(index));
    const approved = await this.guard.approve(
      "attestation",
      signers.map((validatorIndex) => ({ validatorIndex, slot, signingRoot })),
    );
    signers.forEach((index, i) => {
      const key = this.keys.get(index);
      if (key === undefined) return;
      if (approved[i] !== true) {
        this.counters.attestationsRefused++;
        return;
      }
      const signStarted = performance.now();
      const att = signAttestation(key, index, data, this.chain.domains);
      this.observer.attestationSigned?.(secondsSince(signStarted));
      this.counters.attestationsProduced++;
      this.chain.onAttestation(att, { trusted: true });
      this.fireAndLog(this.publisher.publishAttestation(index % this.subnetCount, att), "publish attestation");
    });
    this.observer.attestationsProduced?.(secondsSince(started));
  }

  /** An aggregation cycle the node let pass (a late tick skipped a stale slot's duty). */
  skipAggregation(): void {
    if (this.isAggregator) this.counters.aggregationSkipped.other++;
    else this.counters.aggregationSkipped.not_aggregator++;
  }

  /**
   * Aggregates this slot's votes, and re-aggregates the previous slot's: votes that arrived after
   * last slot's interval 2 would otherwise never reach a block. An aggregate is only published
   * when it covers more validators than the one already published for the same data.
   */
  aggregate(slot: number): void {
    if (!this.isAggregator) {
      this.counters.aggregationSkipped.not_aggregator++;
      return;
    }
    const started = performance.now();
    this.collector.prune(slot);
    for (const [key, entry] of this.published) if (entry.slot < slot - 2) this.published.delete(key);
    const votes = [...this.collector.forSlot(slot - 1), ...this.collector.forSlot(slot)];
    for (const agg of this.buildAggregates(votes)) {
      const key = attestationDataKey(agg.data);
      const count = agg.aggregationBits.getTrueBitIndexes().length;
      if ((this.published.get(key)?.count ?? 0) >= count) continue;
      this.published.set(key, { slot: agg.data.slot, count });
      this.counters.aggregatesProduced++;
      this.chain.onAggregate(agg, { trusted: true });
      this.fireAndLog(this.publisher.publishAggregate(agg), "publish aggregate");
    }
    this.observer.aggregationCycle?.(secondsSince(started));
  }

  /** One aggregate per data (aggregateAttestations), each timed and counted. */
  private buildAggregates(votes: readonly SignedAttestation[]): SignedAggregatedAttestation[] {
    const built = aggregateAttestations(votes, {
      onAggregateBuilt: (ms) => this.observer.aggregateBuilt?.(ms / 1000),
    });
    for (const agg of built) {
      this.counters.aggregatesBuilt++;
      this.counters.attestationsAggregated += agg.aggregationBits.getTrueBitIndexes().length;
    }
    return built;
  }

  private fireAndLog(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.logger.debug(`${what} failed`, { error: String(err) }));
  }
}

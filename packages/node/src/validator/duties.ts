// The node's own validators: propose at interval 0, attest at interval 1, aggregate at interval 2
// (PROTOCOL.md section 1). Each duty runs once per slot; keys are the devnet interop keys.
import {
  ATTESTATION_COMMITTEE_COUNT,
  aggregateAttestations,
  attestationDataKey,
  interopSecretKey,
  isProposer,
  produceBlock,
  type SecretKey,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  shortRoot,
  signAttestation,
} from "@metronome/chain";
import type { ChainService } from "../chain/chainService.ts";
import type { Logger } from "../util/logger.ts";
import type { AttestationCollector } from "./attestationCollector.ts";

export interface DutyPublisher {
  publishBlock(block: SignedBlock): Promise<unknown>;
  publishAttestation(subnet: number, att: SignedAttestation): Promise<unknown>;
  publishAggregate(agg: SignedAggregatedAttestation): Promise<unknown>;
}

export interface DutyCounters {
  blocksProposed: number;
  blockProposalFailures: number;
  attestationsProduced: number;
  aggregatesProduced: number;
}

export class ValidatorDuties {
  readonly indices: number[];
  readonly isAggregator: boolean;
  readonly counters: DutyCounters = {
    blocksProposed: 0,
    blockProposalFailures: 0,
    attestationsProduced: 0,
    aggregatesProduced: 0,
  };
  private readonly keys: Map<number, SecretKey>;
  private readonly chain: ChainService;
  private readonly publisher: DutyPublisher;
  private readonly collector: AttestationCollector;
  private readonly logger: Logger;
  private readonly subnetCount: number;
  /** Participant count of the aggregate published per data key (pruned to recent slots). */
  private readonly published = new Map<string, { slot: number; count: number }>();

  constructor(opts: {
    indices: number[];
    isAggregator: boolean;
    chain: ChainService;
    publisher: DutyPublisher;
    collector: AttestationCollector;
    logger: Logger;
    subnetCount?: number;
  }) {
    this.indices = [...opts.indices].sort((a, b) => a - b);
    this.isAggregator = opts.isAggregator;
    this.keys = new Map(this.indices.map((i) => [i, interopSecretKey(i)]));
    this.chain = opts.chain;
    this.publisher = opts.publisher;
    this.collector = opts.collector;
    this.logger = opts.logger;
    this.subnetCount = opts.subnetCount ?? ATTESTATION_COMMITTEE_COUNT;
  }

  /** Whether one of our validators proposes `slot` (the store then accepts new votes first). */
  proposerFor(slot: number): number | null {
    const count = this.chain.store.getHeadState().validators.length;
    for (const i of this.indices) if (isProposer(slot, i, count)) return i;
    return null;
  }

  propose(slot: number): void {
    const proposer = this.proposerFor(slot);
    if (proposer === null) return;
    const key = this.keys.get(proposer);
    if (!key) return;
    let block: SignedBlock;
    try {
      block = produceBlock(this.chain.store, slot, proposer, key);
    } catch (err) {
      this.counters.blockProposalFailures++;
      this.logger.error("block production failed", { slot, proposer }, err);
      return;
    }
    const outcome = this.chain.importBlock(block, "own_proposal");
    if (outcome.status !== "imported") {
      this.counters.blockProposalFailures++;
      this.logger.error("own block did not import", { slot, status: outcome.status });
      return;
    }
    this.counters.blocksProposed++;
    this.logger.info("proposed block", {
      slot,
      root: shortRoot(outcome.root),
      attestations: block.block.body.attestations.length,
    });
    this.fireAndLog(this.publisher.publishBlock(block), "publish block");
  }

  attest(slot: number): void {
    if (this.indices.length === 0) return;
    const data = this.chain.store.produceAttestationData(slot);
    for (const index of this.indices) {
      const key = this.keys.get(index);
      if (!key) continue;
      const att = signAttestation(key, index, data, this.chain.store.domains);
      this.counters.attestationsProduced++;
      this.chain.onAttestation(att, { trusted: true });
      this.fireAndLog(this.publisher.publishAttestation(index % this.subnetCount, att), "publish attestation");
    }
  }

  /**
   * Aggregates this slot's votes, and re-aggregates the previous slot's: votes that arrived after
   * last slot's interval 2 would otherwise never reach a block. An aggregate is only published
   * when it covers more validators than the one already published for the same data.
   */
  aggregate(slot: number): void {
    if (!this.isAggregator) return;
    this.collector.prune(slot);
    for (const [key, entry] of this.published) if (entry.slot < slot - 2) this.published.delete(key);
    const votes = [...this.collector.forSlot(slot - 1), ...this.collector.forSlot(slot)];
    for (const agg of aggregateAttestations(votes)) {
      const key = attestationDataKey(agg.data);
      const count = agg.aggregationBits.getTrueBitIndexes().length;
      if ((this.published.get(key)?.count ?? 0) >= count) continue;
      this.published.set(key, { slot: agg.data.slot, count });
      this.counters.aggregatesProduced++;
      this.chain.onAggregate(agg, { trusted: true });
      this.fireAndLog(this.publisher.publishAggregate(agg), "publish aggregate");
    }
  }

  private fireAndLog(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.logger.debug(`${what} failed`, { error: String(err) }));
  }
}

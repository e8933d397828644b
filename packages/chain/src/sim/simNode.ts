// One simulated node: its own fork-choice store, the validators it hosts, and the single
// attestations it has verified (the aggregator duty folds them). Every inbound message goes
// through the store's gossip rules; protocol rejections are counted, anything else is a bug.
import { INTERVALS_PER_SLOT } from "../constants.ts";
import { verifySameMessageBatch } from "../crypto/bls.ts";
import { ChainError, isChainError, RejectionCode } from "../errors.ts";
import {
  getAttestationSignatureSet,
  type SignatureSet,
  verifySignatureSet,
} from "../forkChoice/attestationSignatures.ts";
import type { ForkChoiceStore } from "../forkChoice/store.ts";
import { attestationDataKey } from "../ssz/keys.ts";
import type { Checkpoint, SignedAttestation, SignedBlock } from "../ssz/types.ts";
import type { MessageSink, SimMessage } from "./bus.ts";

export interface NodeView {
  head: Checkpoint;
  justified: Checkpoint;
  finalized: Checkpoint;
}

export interface NodeStats {
  blocksImported: number;
  attestationsAccepted: number;
  aggregatesAccepted: number;
  /** Rejections by ChainError code. */
  rejected: Record<string, number>;
}

/**
 * "single": every attestation through store.processGossipAttestation (one pairing check each).
 * "batch": the same rules, but a batch's signatures over one message are checked together
 * (randomized aggregate, one pairing check), falling back to one by one when the batch fails.
 */
export type VerifyMode = "single" | "batch";

/** Aggregation happens one interval after attesting, so a few slots of history is plenty. */
const COLLECTED_SLOTS = 4;

interface Checked {
  att: SignedAttestation;
  set: SignatureSet;
}

export class SimNode implements MessageSink {
  readonly id: number;
  readonly store: ForkChoiceStore;
  readonly validatorIndices: readonly number[];
  readonly verifyMode: VerifyMode;
  readonly stats: NodeStats = { blocksImported: 0, attestationsAccepted: 0, aggregatesAccepted: 0, rejected: {} };
  /** slot -> validator -> attestation; one entry per validator, at most COLLECTED_SLOTS slots. */
  private readonly collected = new Map<number, Map<number, SignedAttestation>>();

  constructor(id: number, store: ForkChoiceStore, validatorIndices: readonly number[], verifyMode: VerifyMode) {
    this.id = id;
    this.store = store;
    this.validatorIndices = validatorIndices;
    this.verifyMode = verifyMode;
  }

  tick(slot: number, interval: number, hasProposal: boolean): void {
    this.store.onTick(slot * INTERVALS_PER_SLOT + interval, hasProposal);
  }

  /** Own proposal: produceBlock already checked and signed it. */
  importOwnBlock(block: SignedBlock): Uint8Array {
    const { root } = this.store.onBlock(block, { verifySignatures: false });
    this.stats.blocksImported++;
    return root;
  }

  /** Blocks first (attestations may name them), then aggregates, then single attestations. */
  receiveBatch(messages: readonly SimMessage[]): void {
    const singles: SignedAttestation[] = [];
    for (const m of messages) if (m.kind === "block") this.guard(() => this.onBlock(m.block));
    for (const m of messages) {
      if (m.kind === "aggregate") {
        this.guard(() => {
          this.store.processGossipAggregate(m.aggregate);
          this.stats.aggregatesAccepted++;
        });
      } else if (m.kind === "attestation") {
        singles.push(m.attestation);
      }
    }
    if (this.verifyMode === "single") {
      for (const att of singles) this.guard(() => this.acceptSingle(att, true));
    } else {
      this.receiveSinglesBatched(singles);
    }
  }

  collectedFor(slot: number): SignedAttestation[] {
    return [...(this.collected.get(slot)?.values() ?? [])];
  }

  view(): NodeView {
    return { head: this.store.head, justified: this.store.latestJustified, finalized: this.store.latestFinalized };
  }

  private onBlock(block: SignedBlock): void {
    this.store.onBlock(block);
    this.stats.blocksImported++;
  }

  private acceptSingle(att: SignedAttestation, verify: boolean): void {
    if (verify) this.store.processGossipAttestation(att);
    else this.store.onAttestation(att.data, [att.validatorIndex]);
    this.collect(att);
    this.stats.attestationsAccepted++;
  }

  /** Same rules as processGossipAttestation, with one signature check per distinct message. */
  private receiveSinglesBatched(atts: readonly SignedAttestation[]): void {
    const byMessage = new Map<string, Checked[]>();
    for (const att of atts) {
      this.guard(() => {
        this.store.validateAttestationData(att.data);
        const set = getAttestationSignatureSet(this.store.pubkeys, this.store.domains, att);
        const key = attestationDataKey(att.data);
        const group = byMessage.get(key);
        if (group === undefined) byMessage.set(key, [{ att, set }]);
        else group.push({ att, set });
      });
    }
    for (const group of byMessage.values()) {
      const message = (group[0] as Checked).set.message;
      const allValid = verifySameMessageBatch(
        message,
        group.map((c) => c.set),
      );
      for (const { att, set } of group) {
        this.guard(() => {
          if (!allValid && !verifySignatureSet(set)) {
            throw new ChainError(
              RejectionCode.INVALID_SIGNATURE,
              `bad attestation signature from ${att.validatorIndex}`,
            );
          }
          this.acceptSingle(att, false);
        });
      }
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!isChainError(err)) throw err;
      this.stats.rejected[err.code] = (this.stats.rejected[err.code] ?? 0) + 1;
    }
  }

  private collect(att: SignedAttestation): void {
    const slot = att.data.slot;
    let bySigner = this.collected.get(slot);
    if (bySigner === undefined) {
      bySigner = new Map();
      this.collected.set(slot, bySigner);
      for (const old of [...this.collected.keys()].sort((a, b) => a - b)) {
        if (this.collected.size <= COLLECTED_SLOTS) break;
        this.collected.delete(old);
      }
    }
    // First verified vote per validator wins, as in aggregateAttestations.
    if (!bySigner.has(att.validatorIndex)) bySigner.set(att.validatorIndex, att);
  }
}

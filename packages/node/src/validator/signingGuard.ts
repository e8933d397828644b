// The one gate every in-node signature passes before it is made: the doppelganger wait, then the
// slashing-protection record (checked and written, synced, in one batch per duty). A refused
// signature is logged and counted, and the duty signs nothing for that validator.

import type { Logger } from "@metronome/common";
import type { DoppelgangerWatch, SignKind, SlashingCheck, SlashingProtection } from "@metronome/validator";

export type RefusalReason = Extract<SlashingCheck, { status: "refused" }>["reason"];
export const REFUSAL_REASONS: readonly RefusalReason[] = ["double_sign", "unknown_root", "below_lowest_slot"];

export interface SigningGuardCounters {
  /** Signatures the record refused, by duty and reason. */
  refusals: Record<SignKind, Record<RefusalReason, number>>;
  /** Signatures not made because the record could not be read or written. */
  protectionErrors: Record<SignKind, number>;
  /** Signatures not made because of the doppelganger wait (`waiting`) or a detection. */
  doppelgangerSkips: Record<SignKind, { waiting: number; detected: number }>;
}

export interface DutySigningRequest {
  validatorIndex: number;
  slot: number;
  signingRoot: Uint8Array;
}

function refusalCounts(): Record<RefusalReason, number> {
  return { double_sign: 0, unknown_root: 0, below_lowest_slot: 0 };
}

export function emptySigningGuardCounters(): SigningGuardCounters {
  return {
    refusals: { block: refusalCounts(), attestation: refusalCounts() },
    protectionErrors: { block: 0, attestation: 0 },
    doppelgangerSkips: { block: { waiting: 0, detected: 0 }, attestation: { waiting: 0, detected: 0 } },
  };
}

export class SigningGuard {
  readonly counters = emptySigningGuardCounters();
  readonly doppelganger: DoppelgangerWatch;
  private readonly protection: SlashingProtection;
  private readonly pubkeys: ReadonlyMap<number, Uint8Array>;
  private readonly currentSlot: () => number;
  private readonly logger: Logger;
  /** The last slot a doppelganger skip was logged for (one line per slot, not per validator). */
  private lastSkipLogSlot = Number.NEGATIVE_INFINITY;

  constructor(o: {
    protection: SlashingProtection;
    /** validator index -> public key, for every validator the node signs for. */
    pubkeys: ReadonlyMap<number, Uint8Array>;
    doppelganger: DoppelgangerWatch;
    currentSlot: () => number;
    logger: Logger;
  }) {
    this.protection = o.protection;
    this.pubkeys = o.pubkeys;
    this.doppelganger = o.doppelganger;
    this.currentSlot = o.currentSlot;
    this.logger = o.logger;
  }

  /**
   * Decides each request in order (true: sign it now). Allowed new requests are on disk when this
   * resolves; a failure of the record refuses the whole duty.
   */
  async approve(kind: SignKind, requests: readonly DutySigningRequest[]): Promise<boolean[]> {
    if (requests.length === 0) return [];
    const slot = requests[0]?.slot ?? 0;
    if (!this.doppelganger.maySign(slot, this.currentSlot())) {
      const detected = this.doppelganger.evidence !== null;
      this.counters.doppelgangerSkips[kind][detected ? "detected" : "waiting"] += requests.length;
      if (slot !== this.lastSkipLogSlot) {
        this.lastSkipLogSlot = slot;
        if (detected) this.logger.warn("not signing: a doppelganger was detected", { slot, duty: kind });
        else
          this.logger.info("not signing: doppelganger wait", {
            slot,
            duty: kind,
            firstSigningSlot: this.doppelganger.firstSigningSlot,
          });
      }
      return requests.map(() => false);
    }
    const records = [];
    for (const r of requests) {
      const pubkey = this.pubkeys.get(r.validatorIndex);
      if (pubkey === undefined) throw new Error(`no public key for validator ${r.validatorIndex}`);
      records.push({ pubkey, slot: r.slot, signingRoot: r.signingRoot });
    }
    let checks: SlashingCheck[];
    try {
      checks = await this.protection.checkAndRecordMany(kind, records);
    } catch (err) {
      this.counters.protectionErrors[kind] += requests.length;
      this.logger.error("slashing protection failed: not signing", { duty: kind, slot }, err);
      return requests.map(() => false);
    }
    return checks.map((check, i) => {
      if (check.status === "repeat") {
        // After a restart in the slot it signed: the same message again, harmless and worth knowing.
        this.logger.info("signing again what is already on record (same signing root)", {
          duty: kind,
          validator: requests[i]?.validatorIndex,
          slot: requests[i]?.slot,
        });
      }
      if (check.status !== "refused") return true;
      this.counters.refusals[kind][check.reason]++;
      this.logger.warn("slashing protection refused to sign", {
        duty: kind,
        validator: requests[i]?.validatorIndex,
        slot: requests[i]?.slot,
        reason: check.reason,
        detail: check.detail,
      });
      return false;
    });
  }
}

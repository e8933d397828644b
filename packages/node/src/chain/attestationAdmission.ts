// Attestation admission, split in two so signature checks can leave the main thread: `prepare*`
// runs the protocol's structural checks against the store (cheap lookups) and returns the
// signature set to verify; `complete` applies the verdict once the set has been verified (by the
// worker pool, or synchronously). A rejection before verification never costs a pairing. The
// chain service (chainService.ts) supplies what admission may touch through AdmissionContext.
import {
  ChainError,
  classifyAttestationRejection,
  type ForkChoiceStore,
  RejectionCode,
  type SignatureSet,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  verifySignatureSet,
} from "@metronome/chain";
import type { PendingBufferReason } from "../runtime/pendingBuffer.ts";
import type {
  AttestationKind,
  AttestationOutcome,
  ChainCounters,
  ChainObserver,
  PreparedAttestation,
} from "./interface.ts";

export interface AdmissionContext {
  readonly store: ForkChoiceStore;
  readonly counters: ChainCounters;
  readonly observer: ChainObserver;
  /** Counts a rejection and says so. */
  reject(err: unknown): AttestationOutcome;
  /** Counts a verified vote in fork choice (and emits it). */
  apply(kind: AttestationKind, item: SignedAttestation | SignedAggregatedAttestation): void;
  /** Holds a verified vote whose block or slot has not come yet. */
  buffer(
    kind: AttestationKind,
    item: SignedAttestation | SignedAggregatedAttestation,
    reason: PendingBufferReason,
  ): void;
  /** Asks the block fetcher for a block a vote points at. */
  want(root: Uint8Array): void;
}

/** Completes a prepared admission on this thread: `trusted` skips the pairing (own signature). */
export function completeNow(prepared: PreparedAttestation, trusted: boolean): AttestationOutcome {
  if (prepared.kind === "done") return prepared.outcome;
  if (trusted) return prepared.complete(true, false);
  return prepared.complete(verifySignatureSet(prepared.set));
}

export function prepareAdmission(
  ctx: AdmissionContext,
  kind: AttestationKind,
  item: SignedAttestation | SignedAggregatedAttestation,
  data: SignedAttestation["data"],
  signatureSet: () => SignatureSet,
): PreparedAttestation {
  const started = performance.now();
  let set: SignatureSet;
  try {
    set = signatureSet();
  } catch (err) {
    ctx.observer.attestationValidated?.((performance.now() - started) / 1000);
    return { kind: "done", outcome: ctx.reject(err) };
  }
  let invalidData: { err: unknown } | null = null;
  try {
    ctx.store.validateAttestationData(data);
  } catch (err) {
    invalidData = { err };
  }
  const checked = performance.now();
  ctx.observer.attestationValidated?.((checked - started) / 1000);
  // Every verdict is counted (when a pairing ran); a bad signature is a rejection, whatever else.
  const onVerdict =
    (onValid: () => AttestationOutcome) =>
    (valid: boolean, verified = true): AttestationOutcome => {
      if (verified) {
        ctx.counters.signatures[kind][valid ? "valid" : "invalid"]++;
        ctx.observer.signatureVerified?.(kind, (performance.now() - checked) / 1000);
      }
      if (!valid) return ctx.reject(new ChainError(RejectionCode.INVALID_SIGNATURE, "bad signature"));
      return onValid();
    };
  if (invalidData !== null) {
    const err = invalidData.err;
    const verdict = classifyAttestationRejection(err, data, ctx.store.time);
    if (verdict.kind === "drop") return { kind: "done", outcome: ctx.reject(err) };
    // The validator set is fixed at genesis: check the signature before holding on to it.
    const reason = verdict.unknownRoot === null ? "future_slot" : "unknown_block";
    return {
      kind: "verify",
      set,
      complete: onVerdict(() => {
        ctx.buffer(kind, item, reason);
        if (verdict.unknownRoot !== null) ctx.want(verdict.unknownRoot);
        return { status: "buffered", reason };
      }),
    };
  }
  return {
    kind: "verify",
    set,
    complete: onVerdict(() => {
      ctx.apply(kind, item);
      return { status: "accepted" };
    }),
  };
}

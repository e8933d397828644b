// Doppelganger protection: after a start, sign nothing until the node has listened for `waitSlots`
// full slots (counted from the first slot it can hear the network in: for a node, once it is
// synced) and watch the network for verified votes and blocks signed by our own keys. One that our slashing-protection
// record does not hold (another root, or a slot we never signed) was made by another signer using
// our keys; signing next to it would get both slashed, so every duty stays refused from then on
// until an operator restarts the signer. Messages for slots before the start slot are not evidence:
// they may be our own from before the restart (or from before a wiped record).
// Only what the caller verified may be observed: an unverified message naming our index would let
// any peer silence our validators.
import { toHex } from "@metronome/chain";
import type { SignKind } from "./slashingProtection.ts";
import { UNKNOWN_ROOT } from "./slashingProtection.ts";

/**
 * Default wait. Lighthouse waits 2 epochs because a validator attests once per epoch; a lean
 * validator votes every slot, so 2 full slots give a live doppelganger two votes to be seen by, and
 * the 3rd covers a gossip mesh still forming after the restart. A restart costs 3 slots of votes.
 */
export const DEFAULT_DOPPELGANGER_SLOTS = 3;

/**
 * Record lookups in flight at once. Only verified messages signed with our keys for slots since the
 * start get here (normally none); past the cap a message is skipped and counted, and the lookups
 * already running decide on the evidence before it.
 */
export const MAX_PENDING_LOOKUPS = 1024;

export type DoppelgangerState = "off" | "waiting" | "passed" | "detected";

export interface DoppelgangerEvidence {
  kind: SignKind;
  validatorIndex: number;
  slot: number;
  signingRoot: string;
}

/** What our own record holds for a slot: a 0x root, UNKNOWN_ROOT, or undefined (nothing). */
export type RecordedRootLookup = (kind: SignKind, pubkey: Uint8Array, slot: number) => Promise<string | undefined>;

export interface DoppelgangerOptions {
  /** Our validators: index -> public key. */
  keys: ReadonlyMap<number, Uint8Array>;
  /** The slot the signer started in (negative before genesis). */
  startSlot: number;
  /** Full slots to listen before signing; 0 turns the watch off. */
  waitSlots: number;
  recordedRoot: RecordedRootLookup;
  onDetected: (evidence: DoppelgangerEvidence) => void;
  /**
   * Whether the signer hears the network now (a node: synced, so gossip votes are verified). The
   * wait counts from the first slot this holds: a wait spent deaf proves nothing. Default: always.
   */
  isListening?: () => boolean;
  /** Told when a record lookup fails: the message is then treated as evidence (fail safe). */
  onLookupError?: (err: unknown) => void;
}

export class DoppelgangerWatch {
  readonly startSlot: number;
  readonly waitSlots: number;
  private readonly o: DoppelgangerOptions;
  private detectedBy: DoppelgangerEvidence | null = null;
  /** The first slot the signer was seen listening in (null: not yet). */
  private listeningSince: number | null = null;
  /** Lookups in flight (tests wait on them; production never needs to). */
  private pending = new Set<Promise<void>>();
  /** Observations skipped because MAX_PENDING_LOOKUPS lookups were already running. */
  lookupsDropped = 0;

  constructor(o: DoppelgangerOptions) {
    this.o = o;
    this.startSlot = o.startSlot;
    this.waitSlots = o.waitSlots;
    // Without a predicate the signer listens from its start.
    if (o.isListening === undefined) this.listeningSince = o.startSlot;
  }

  /** The first slot duties may be signed in (when nothing was detected); +Infinity until listening. */
  get firstSigningSlot(): number {
    if (this.waitSlots === 0) return Number.NEGATIVE_INFINITY;
    if (this.listeningSince === null) return Number.POSITIVE_INFINITY;
    return Math.max(this.startSlot, this.listeningSince) + this.waitSlots + 1;
  }

  get evidence(): DoppelgangerEvidence | null {
    return this.detectedBy;
  }

  state(currentSlot: number): DoppelgangerState {
    this.noteListening(currentSlot);
    if (this.detectedBy !== null) return "detected";
    if (this.waitSlots === 0) return "off";
    return currentSlot < this.firstSigningSlot ? "waiting" : "passed";
  }

  /** Whether a duty of `slot` may be signed now. */
  maySign(slot: number, currentSlot: number): boolean {
    this.noteListening(currentSlot);
    return this.detectedBy === null && slot >= this.firstSigningSlot && currentSlot >= this.firstSigningSlot;
  }

  /**
   * A verified message signed by `validatorIndex` for `slot` with `signingRoot`. Ignored unless it
   * is one of ours, within the watch window, and the watch is still listening.
   */
  observe(kind: SignKind, validatorIndex: number, slot: number, signingRoot: Uint8Array, currentSlot: number): void {
    if (this.waitSlots === 0 || this.detectedBy !== null || this.state(currentSlot) !== "waiting") return;
    if (slot < this.startSlot) return;
    const pubkey = this.o.keys.get(validatorIndex);
    if (pubkey === undefined) return;
    if (this.pending.size >= MAX_PENDING_LOOKUPS) {
      this.lookupsDropped++;
      return;
    }
    const root = toHex(signingRoot);
    const check = this.o
      .recordedRoot(kind, pubkey, slot)
      .then(
        (recorded) => recorded !== root && recorded !== UNKNOWN_ROOT,
        (err: unknown) => {
          this.o.onLookupError?.(err);
          return true;
        },
      )
      .then((foreign) => {
        if (foreign && this.detectedBy === null) {
          this.detectedBy = { kind, validatorIndex, slot, signingRoot: root };
          this.o.onDetected(this.detectedBy);
        }
      });
    this.pending.add(check);
    void check.finally(() => this.pending.delete(check));
  }

  private noteListening(currentSlot: number): void {
    if (this.listeningSince !== null || this.waitSlots === 0) return;
    if (this.o.isListening?.()) this.listeningSince = currentSlot;
  }

  /** Resolves once every lookup started so far has decided. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

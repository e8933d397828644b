// The validator client's public types: its options, keys, the head source it reads, and the
// record it keeps of each slot's attestation duty.
import type { SecretKey, SigningDomains } from "@metronome/chain";
import type { SlotClock, TimerApi } from "@metronome/clock";
import type { Logger } from "@metronome/common";
import type { BeaconNodes } from "./beaconNodes.ts";
import type { HeadUpdate } from "./headMonitor.ts";
import type { SlashingProtection } from "./slashing/slashingProtection.ts";
import type { VcMetrics } from "./vcMetrics.ts";

/** The part of the head monitor the duty loop reads. */
export interface HeadSource {
  firstHeadForSlot(slot: number): HeadUpdate | undefined;
  laggingUrls(): Set<string>;
}

export interface ValidatorKey {
  index: number;
  secretKey: SecretKey;
  pubkey: Uint8Array;
}

export interface ValidatorClientOptions {
  clock: SlotClock;
  nodes: BeaconNodes;
  heads: HeadSource;
  protection: SlashingProtection;
  keys: ValidatorKey[];
  domains: SigningDomains;
  metrics: VcMetrics;
  logger: Logger;
  dutyWindow?: number;
  /** Tests only: timers that never fire, to drive onInterval by hand. */
  timers?: TimerApi;
}

export type AttestationSource = "head" | "interval";

/** What happened to one slot's attestation duty (kept for a few slots, for tests and logs). */
export interface AttestationRecord {
  slot: number;
  source: AttestationSource;
  url: string;
  headRoot: string;
  published: number;
  refused: number;
}

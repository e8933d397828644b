// What the HTTP API needs from a running node. The server only formats; the node implements this,
// and tests can implement it with plain objects.

import type { NodeHealth } from "@metronome/api";
import type { BlockHeader, Checkpoint } from "@metronome/chain";

export interface HeaderSummary {
  root: Uint8Array;
  canonical: boolean;
  header: BlockHeader;
  signature: Uint8Array;
}

export interface PeerSummary {
  peerId: string;
  address: string;
  direction: "inbound" | "outbound";
}

export interface ApiBackend {
  health(): NodeHealth;
  syncState(): "IDLE" | "SYNCING" | "SYNCED";
  headSlot(): number;
  currentSlot(): number;
  peerId(): string;
  listenAddresses(): string[];
  peers(): PeerSummary[];
  version(): string;
  /** head | finalized | justified | genesis | <slot> | <0xroot>; null when unknown. */
  header(blockId: BlockIdQuery): Promise<HeaderSummary | null>;
  justified(): Checkpoint;
  finalized(): Checkpoint;
  /** What GET /eth/v1/beacon/genesis reports (see docs/protocol.md for lean's meaning of each). */
  genesis(): GenesisSummary;
}

export interface GenesisSummary {
  genesisTime: number;
  /** hash_tree_root of the genesis state: lean has no separate validators root. */
  genesisValidatorsRoot: Uint8Array;
  /** The 4-byte fork digest: lean has no fork versions. */
  genesisForkVersion: Uint8Array;
}

export type BlockIdQuery =
  | { kind: "head" | "finalized" | "justified" | "genesis" }
  | { kind: "slot"; slot: number }
  | { kind: "root"; root: Uint8Array };

// What the HTTP API's core routes read from a running node: health, sync state, head and
// checkpoints, peers and the genesis identity (its state root is hashed once, on first use).
import type { NodeHealth } from "@metronome/api";
import { State } from "@metronome/chain";
import type { SlotClock } from "@metronome/clock";
import { genesisStateOf } from "@metronome/common";
import type { INetwork } from "@metronome/network";
import type { ApiBackend } from "../api/backend.ts";
import type { BeaconChain } from "../chain/interface.ts";
import type { SyncService } from "../sync/syncService.ts";
import { lookupHeader } from "./headerLookup.ts";
import type { NodeOptions } from "./options.ts";

export interface ApiBackendParts {
  options: NodeOptions;
  chain: BeaconChain;
  clock: SlotClock;
  network: INetwork;
  sync: Pick<SyncService, "state">;
  health(): NodeHealth;
}

export function nodeApiBackend(node: ApiBackendParts, version: string): ApiBackend {
  const { chain, clock, network, options } = node;
  let genesisRoot: Uint8Array | null = null;
  const genesisStateRoot = () => {
    genesisRoot ??= State.hashTreeRoot(genesisStateOf(options.chain));
    return genesisRoot;
  };
  return {
    health: () => node.health(),
    syncState: () => node.sync.state,
    headSlot: () => chain.head.slot,
    currentSlot: () => Math.max(0, clock.currentSlot()),
    peerId: () => network.peerId,
    listenAddresses: () => network.multiaddrs(),
    peers: () => network.peers().map((peerId) => ({ peerId, address: "", direction: "outbound" as const })),
    version: () => version,
    justified: () => chain.justified,
    finalized: () => chain.finalized,
    header: (id) => lookupHeader(chain, id),
    genesis: () => ({
      genesisTime: options.chain.genesisTime,
      genesisValidatorsRoot: genesisStateRoot(),
      genesisForkVersion: genesisStateRoot().slice(0, 4),
    }),
  };
}

// The parts of a running node that health and the metrics bridge read. BeaconNode implements it;
// naming the parts here instead of importing BeaconNode keeps those two modules out of an import
// cycle with the composition root (and lets tests hand them a plain object).

import type { BlsVerifier } from "@metronome/bls";
import type { SlotClock } from "@metronome/clock";
import type { INetwork } from "@metronome/network";
import type { EventsPlugin } from "../api/events.ts";
import type { ApiServerStats } from "../api/serverLimits.ts";
import type { BeaconChain } from "../chain/interface.ts";
import type { Driver } from "../driver/driver.ts";
import type { BlockFetcher } from "../runtime/blockFetcher.ts";
import type { SyncService } from "../sync/syncService.ts";
import type { ValidatorDuties } from "../validator/duties.ts";
import type { SigningGuard } from "../validator/signingGuard.ts";
import type { GossipIngress } from "./gossipIngress.ts";
import type { NodeOptions } from "./options.ts";

export interface NodeView {
  readonly options: NodeOptions;
  readonly chain: BeaconChain;
  readonly clock: SlotClock;
  readonly driver: Pick<Driver, "stats">;
  readonly network: INetwork;
  readonly sync: Pick<SyncService, "state">;
  readonly ingress: GossipIngress;
  readonly duties: ValidatorDuties;
  readonly fetcher: BlockFetcher;
  readonly verifier: BlsVerifier;
  readonly signingGuard: SigningGuard;
  readonly apiStats: ApiServerStats;
  /** The SSE stream (null while the HTTP API is disabled). */
  readonly eventStream: EventsPlugin | null;
  readonly uptimeMs: number;
}

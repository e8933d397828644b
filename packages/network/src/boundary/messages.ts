// Every message that crosses between the driver thread and the network worker: two discriminated
// unions, one per direction. Values are structured-cloned (see revive.ts for what the clone loses);
// nothing crosses as an untyped blob.
import type { SignedAggregatedAttestation, SignedAttestation, SignedBlock, Status } from "@metronome/chain";
import type { ThreadPriorityResult } from "@metronome/clock/threadPriority";
import type { NetworkErrorCode } from "../errors.ts";
import type { GossipValueByKind } from "../gossip/codec.ts";
import type { GossipVerdict } from "../gossip/router.ts";
import type { GossipKind } from "../gossip/topics.ts";
import type { ScoreDisconnectReason } from "../host/peerScores.ts";
import type { NetworkMemoryStats, PeerScoreSummary } from "../network.ts";
import type { ReqRespMethod } from "../reqresp/protocols.ts";
import type { GossipStatKind, LabelledNetworkStats, NetworkStats } from "../stats.ts";
import type { BoundaryStats } from "./boundaryStats.ts";

/** A decoded, pre-checked gossip message waiting for the node's verdict. */
export type GossipWorkItem = {
  [K in GossipKind]: { id: number; kind: K; value: GossipValueByKind[K]; peer: string; subnet: number; bytes: number };
}[GossipKind];

/** What the driver thread asks of the network; each has a typed result (WorkerCallResult). */
export type WorkerCall =
  | { op: "subscribe"; subnets: number[] }
  | { op: "publishBlock"; block: SignedBlock }
  | { op: "publishAttestation"; subnet: number; attestation: SignedAttestation }
  | { op: "publishAggregate"; aggregate: SignedAggregatedAttestation }
  | { op: "status"; peer: string }
  | { op: "blocksByRoot"; peer: string; roots: Uint8Array[] }
  | { op: "blocksByRange"; peer: string; startSlot: number; count: number }
  | { op: "stop" };
export type WorkerCallOp = WorkerCall["op"];
export type WorkerCallResult = {
  subscribe: null;
  publishBlock: number;
  publishAttestation: number;
  publishAggregate: number;
  status: Status;
  blocksByRoot: SignedBlock[];
  blocksByRange: SignedBlock[];
  stop: null;
};

/** A request a peer made that the node (on the driver thread) answers. */
export type ServeRequest =
  | { method: "status" }
  | { method: "blocksByRoot"; roots: Uint8Array[]; peer: string }
  | { method: "blocksByRange"; startSlot: number; count: number; peer: string };
export type ServeResult = { status: Status; blocksByRoot: SignedBlock[]; blocksByRange: SignedBlock[] };

/** An error as it crosses the boundary: rebuilt as a NetworkError when it has a code. */
export type { BoundaryStats };

export type ErrorShape = { code: NetworkErrorCode | null; message: string };

/** What the driver thread reads synchronously, pushed by the worker every STATS_PUSH_MS. */
export type WorkerStatsSnapshot = {
  stats: NetworkStats;
  labelled: LabelledNetworkStats;
  gossipSizes: Record<GossipStatKind, number[]>;
  peerScores: PeerScoreSummary;
  scoreSamples: number[];
  peers: string[];
  meshPeerCount: number;
  boundary: BoundaryStats;
  memory: NetworkMemoryStats;
};

type CallResultMessage = {
  [O in WorkerCallOp]: { type: "result"; id: number; op: O; ok: true; value: WorkerCallResult[O] };
}[WorkerCallOp];

type ServedMessage = {
  [M in keyof ServeResult]: { type: "served"; id: number; method: M; ok: true; value: ServeResult[M] };
}[keyof ServeResult];

/** Driver thread -> network worker. */
export type ToWorker =
  | { type: "call"; id: number; call: WorkerCall }
  | { type: "verdicts"; ids: number[]; verdicts: GossipVerdict[] }
  | ServedMessage
  | { type: "served"; id: number; ok: false; error: ErrorShape }
  /** The node's lane for this peer's messages of this kind overflowed: ignore them for `ms` (GossipOutbox.hold). */
  | { type: "holdGossip"; kind: GossipKind; peer: string; ms: number }
  /** Which gossip kinds have a handler on the driver thread (the others are ignored in the worker). */
  | { type: "gossipKinds"; kinds: GossipKind[] }
  /** Which req/resp requests the driver thread answers, and whether it wants peers' Status. */
  | { type: "reqRespHandlers"; methods: ReqRespMethod[]; peerStatus: boolean };

/** Network worker -> driver thread. */
export type FromWorker =
  /** threadPriority: how much nicer than the driver thread the worker now runs (threadPriority.ts). */
  | { type: "started"; peerId: string; multiaddrs: string[]; threadPriority: ThreadPriorityResult }
  | { type: "startFailed"; error: ErrorShape }
  | CallResultMessage
  | { type: "result"; id: number; op: WorkerCallOp; ok: false; error: ErrorShape }
  | { type: "gossip"; items: GossipWorkItem[] }
  | { type: "peerConnected"; peer: string }
  | { type: "peerDisconnected"; peer: string }
  | { type: "scoreDisconnect"; peer: string; reason: ScoreDisconnectReason; score: number; penalties: string }
  | { type: "serve"; id: number; request: ServeRequest }
  | { type: "peerStatus"; peer: string; status: Status }
  | { type: "stats"; snapshot: WorkerStatsSnapshot };

// The network worker thread: a NetworkHost (libp2p, gossipsub, req/resp, snappy, decoding and the
// decode-first gossip checks) driven by typed messages from the driver thread (boundary/messages.ts).
// Gossip goes out through the bounded GossipOutbox; requests the node answers through ServeRequests.
import { parentPort, workerData } from "node:worker_threads";
import { HeapReducer } from "@metronome/clock/heapReducer";
import { lowerWorkerThreadPriority, NETWORK_WORKER_NICE_OFFSET } from "@metronome/clock/threadPriority";
import {
  boundaryShedTotal,
  GossipOutbox,
  HEAP_BURST_SHED_MESSAGES,
  VERDICT_SWEEP_MS,
} from "../boundary/gossipOutbox.ts";
import type {
  BoundaryStats,
  ErrorShape,
  FromWorker,
  ToWorker,
  WorkerCall,
  WorkerCallResult,
} from "../boundary/messages.ts";
import { reviveAggregate, reviveBlock } from "../boundary/revive.ts";
import { errorMessage, NetworkError } from "../errors.ts";
import type { GossipKind } from "../gossip/topics.ts";
import { NetworkHost } from "../host/networkHost.ts";
import type { ReqRespHandlers } from "../reqresp/server.ts";
import { ServeRequests } from "./serveRequests.ts";
import type { NetworkWorkerInit } from "./workerInit.ts";

const port = parentPort;
if (port === null) throw new Error("networkWorkerMain.ts must run in a worker thread");
const init = workerData as NetworkWorkerInit;
/** libp2p yields a shared core to the driver thread's interval tick (threadPriority.ts). */
const threadPriority = lowerWorkerThreadPriority(NETWORK_WORKER_NICE_OFFSET);
const send = (message: FromWorker) => port.postMessage(message);
const toShape = (err: unknown): ErrorShape => ({
  code: err instanceof NetworkError ? err.code : null,
  message: errorMessage(err),
});

const host = new NetworkHost(init.host);
const outbox = new GossipOutbox({
  post: (items) => send({ type: "gossip", items }),
  limits: init.channelLimits,
  verdictDeadlineMs: init.verdictDeadlineMs,
});
/** Full collections after a burst (needs --expose-gc, one of NODE_RUNTIME_FLAGS; else a no-op). */
const heapReducer = new HeapReducer();
// What the boundary would drop is refused before gossipsub hashes, decompresses or decodes it.
host.setGossipAdmission((kind, peer) => outbox.admit(kind, peer));
const serves = new ServeRequests((id, request) => send({ type: "serve", id, request }));

function setGossipKinds(kinds: readonly GossipKind[]): void {
  for (const kind of ["block", "attestation", "aggregation"] as const) {
    if (!kinds.includes(kind)) {
      host.setGossipHandler(kind, undefined);
      continue;
    }
    host.setGossipHandler(kind, (value, info) =>
      outbox.offer({
        kind,
        value,
        peer: info.peer,
        subnet: info.topic.kind === "attestation" ? info.topic.subnet : 0,
        bytes: info.bytes,
      } as Parameters<GossipOutbox["offer"]>[0]),
    );
  }
}

function setReqRespHandlers(methods: readonly string[], peerStatus: boolean): void {
  const handlers: Partial<ReqRespHandlers> = {};
  if (methods.includes("status")) handlers.status = () => serves.ask({ method: "status" });
  if (methods.includes("blocksByRoot")) {
    handlers.blocksByRoot = (roots, peer) => serves.ask({ method: "blocksByRoot", roots, peer });
  }
  if (methods.includes("blocksByRange")) {
    handlers.blocksByRange = (startSlot, count, peer) =>
      serves.ask({ method: "blocksByRange", startSlot, count, peer });
  }
  if (peerStatus) handlers.onPeerStatus = (peer, status) => send({ type: "peerStatus", peer, status });
  host.setReqRespHandlers(handlers);
}

async function run<O extends WorkerCall["op"]>(call: Extract<WorkerCall, { op: O }>): Promise<WorkerCallResult[O]>;
async function run(call: WorkerCall): Promise<WorkerCallResult[WorkerCall["op"]]> {
  switch (call.op) {
    case "subscribe":
      host.subscribe(call.subnets);
      return null;
    case "publishBlock":
      return host.publishBlock(reviveBlock(call.block));
    case "publishAttestation":
      return host.publishAttestation(call.subnet, call.attestation);
    case "publishAggregate":
      return host.publishAggregate(reviveAggregate(call.aggregate));
    case "status":
      return host.status(call.peer);
    case "blocksByRoot":
      return host.blocksByRoot(call.peer, call.roots);
    case "blocksByRange":
      return host.blocksByRange(call.peer, call.startSlot, call.count);
    case "stop":
      await stop();
      return null;
  }
}

let timers: NodeJS.Timeout[] = [];

async function stop(): Promise<void> {
  for (const t of timers) clearInterval(t);
  timers = [];
  heapReducer.stop();
  outbox.close();
  await host.stop();
}

/** What the boundary had shed when a burst was last marked. */
let shedAtLastBurst = 0;

/**
 * A flood the boundary sheds is a burst for the heap reducer, whatever the heap's size: refused
 * before decoding, a valid flood leaves the worker's heap under the reducer's floor while V8 still
 * pools the pages it freed.
 */
function markBurstIfShedding(boundary: BoundaryStats): void {
  const shed = boundaryShedTotal(boundary);
  if (shed - shedAtLastBurst < HEAP_BURST_SHED_MESSAGES) return;
  shedAtLastBurst = shed;
  heapReducer.markBurst();
}

function pushStats(): void {
  const boundary = outbox.stats();
  markBurstIfShedding(boundary);
  send({
    type: "stats",
    snapshot: {
      stats: {
        ...host.stats(),
        network_heap_full_collections: heapReducer.collections,
        network_heap_releases: heapReducer.releases,
      },
      labelled: host.labelledStats(),
      gossipSizes: host.drainGossipSizes(),
      peerScores: host.peerScoreStats(),
      scoreSamples: host.drainPeerScoreSamples(),
      peers: host.peers(),
      meshPeerCount: host.meshPeerCount(),
      boundary,
      memory: host.memoryStats(),
    },
  });
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "call": {
      const { id, call } = message;
      run(call).then(
        (value) => send({ type: "result", id, op: call.op, ok: true, value } as FromWorker),
        (err: unknown) => send({ type: "result", id, op: call.op, ok: false, error: toShape(err) }),
      );
      break;
    }
    case "verdicts":
      outbox.onVerdicts(message.ids, message.verdicts);
      break;
    case "served":
      if (message.ok) serves.answered(message.id, message.method, message.value);
      else serves.failed(message.id, message.error);
      break;
    case "holdGossip":
      outbox.hold(message.kind, message.peer, message.ms);
      break;
    case "gossipKinds":
      setGossipKinds(message.kinds);
      break;
    case "reqRespHandlers":
      setReqRespHandlers(message.methods, message.peerStatus);
      break;
  }
});

host.onPeerConnected((peer) => send({ type: "peerConnected", peer }));
host.onPeerDisconnected((peer) => send({ type: "peerDisconnected", peer }));
host.onPeerScoreDisconnect((peer, reason, score, penalties) =>
  send({ type: "scoreDisconnect", peer, reason, score, penalties }),
);

try {
  await host.start();
  timers = [setInterval(pushStats, init.statsPushMs), setInterval(() => outbox.expire(), VERDICT_SWEEP_MS)];
  heapReducer.start();
  pushStats();
  send({ type: "started", peerId: host.peerId, multiaddrs: host.multiaddrs(), threadPriority });
} catch (err) {
  send({ type: "startFailed", error: toShape(err) });
}

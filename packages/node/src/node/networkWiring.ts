// Builds the node's network: a NetworkWorker (libp2p in its own thread, the default) or a
// NetworkHost on the main thread (--network-thread main, for comparison). Both are INetwork.
import type { Logger } from "@metronome/common";
import {
  gossipSeenTtlMs,
  type INetwork,
  NetworkHost,
  type NetworkHostOptions,
  NetworkWorker,
} from "@metronome/network";
import type { NodeOptions } from "./options.ts";

export function createNetwork(options: NodeOptions, forkDigest: Uint8Array, logger: Logger): INetwork {
  const host: NetworkHostOptions = {
    forkDigest,
    listenAddresses: [options.listen],
    identitySeed: options.identitySeed,
    bootnodes: options.bootnodes,
    attestationSubnetCount: options.chain.attestationCommitteeCount,
    gossipSeenTtlMs: gossipSeenTtlMs(options.chain.slotDurationMs),
    slotDurationMs: options.chain.slotDurationMs,
    gossipMeshDegree: options.gossipMeshDegree,
    peerScoreDisconnects: options.peerScoreDisconnects,
  };
  if (options.networkThread === "main") return new NetworkHost(host);
  const network = new NetworkWorker({
    ...host,
    log: (level, message, fields) => logger[level](message, fields),
  });
  if (options.debugSigusr2KillsNetworkWorker === true) {
    process.on("SIGUSR2", () => {
      logger.warn("SIGUSR2: terminating the network worker (debug option)");
      network.debugTerminateWorker();
    });
  }
  return network;
}

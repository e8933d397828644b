// Connection and disconnection counts by direction and reason: the direction of each peer's first
// connection is remembered until it disconnects, and a disconnection we asked for is a local close.
import type { Direction, NetworkCounters } from "../stats.ts";
import { MAX_TRACKED_PEERS } from "./hostOptions.ts";

export class ConnectionTracker {
  private readonly counters: NetworkCounters;
  /** Direction of each connected peer's first connection, for the disconnection metric. */
  private readonly directions = new Map<string, Direction>();
  /** Peers this node is hanging up on: their disconnection is a local close. */
  private readonly hangingUp = new Set<string>();

  constructor(counters: NetworkCounters) {
    this.counters = counters;
  }

  connected(peer: string, direction: Direction): void {
    this.counters.labelled.values.peerConnections[direction].success++;
    if (this.directions.size < MAX_TRACKED_PEERS) this.directions.set(peer, direction);
  }

  /** We are about to hang up on `peer`. */
  hangUp(peer: string): void {
    if (this.hangingUp.size >= MAX_TRACKED_PEERS) this.hangingUp.clear();
    this.hangingUp.add(peer);
  }

  disconnected(peer: string): void {
    const direction = this.directions.get(peer) ?? "outbound";
    this.directions.delete(peer);
    const reason = this.hangingUp.delete(peer) ? "local_close" : "remote_close";
    this.counters.labelled.values.peerDisconnections[direction][reason]++;
  }
}

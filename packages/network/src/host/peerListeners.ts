// Peer-event listeners (of a host, or on the driver thread of a network worker). A listener's bug
// must not keep the event from the others.

import type { PeerListener, ScoreDisconnectListener } from "../network.ts";
import type { ScoreDisconnectReason } from "./peerScores.ts";

export class PeerListeners {
  private readonly connects = new Set<PeerListener>();
  private readonly disconnects = new Set<PeerListener>();
  private readonly scoreDisconnects = new Set<ScoreDisconnectListener>();

  onConnected(listener: PeerListener): () => void {
    this.connects.add(listener);
    return () => this.connects.delete(listener);
  }

  onDisconnected(listener: PeerListener): () => void {
    this.disconnects.add(listener);
    return () => this.disconnects.delete(listener);
  }

  onScoreDisconnect(listener: ScoreDisconnectListener): () => void {
    this.scoreDisconnects.add(listener);
    return () => this.scoreDisconnects.delete(listener);
  }

  connected(peer: string): void {
    for (const l of this.connects) safely(() => l(peer));
  }

  disconnected(peer: string): void {
    for (const l of this.disconnects) safely(() => l(peer));
  }

  scoreDisconnect(peer: string, reason: ScoreDisconnectReason, score: number, penalties: string): void {
    for (const l of this.scoreDisconnects) safely(() => l(peer, reason, score, penalties));
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Swallowed on purpose: see the file comment.
  }
}

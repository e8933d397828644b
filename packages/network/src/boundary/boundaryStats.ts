// The counters of the gossip boundary between the network worker and the driver thread.
import type { GossipKind } from "../gossip/topics.ts";

/** The counters of the gossip boundary itself (the worker side keeps them). */
export type BoundaryStats = {
  /** Messages ignored because the channel already held its cap of unanswered items, by kind. */
  droppedCount: Record<GossipKind, number>;
  /** Messages ignored because the channel already held its cap of unanswered bytes, by kind. */
  droppedBytes: Record<GossipKind, number>;
  /** Messages ignored because the node's verdict was not back within VERDICT_DEADLINE_MS. */
  verdictTimeouts: Record<GossipKind, number>;
  /** Messages ignored because the node held their sender's lane (GossipOutbox.hold), by kind. */
  droppedHeld: Record<GossipKind, number>;
  /**
   * Of the drops above (held, full), those refused as their RPC arrived, before the message was
   * hashed, decompressed or decoded (GossipOutbox.admit), by kind.
   */
  refusedBeforeDecode: Record<GossipKind, number>;
  /** Verdicts that came back after their deadline (already ignored). */
  lateVerdicts: number;
  /** Batches and items posted to the driver thread. */
  batches: number;
  items: number;
  /** Items and bytes awaiting a verdict right now. */
  pendingItems: number;
  pendingBytes: number;
  /** (kind, peer) holds in force right now (GossipOutbox.hold, capped at MAX_GOSSIP_HOLDS). */
  holds: number;
};

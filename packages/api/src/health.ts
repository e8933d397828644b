// The node's health report (GET /lean/v0/health): the shape the node's health route serves and
// the devnet launcher, the flood benchmark and external supervisors read. Numbers are plain JSON
// numbers on this lean route.

export interface NodeHealth {
  status: "healthy" | "unhealthy";
  reasons: string[];
  node_id: number | null;
  peer_id: string;
  /** The chain's fork digest as in the genesis config.json (hex, no 0x): tells devnets apart. */
  fork_digest: string;
  current_slot: number;
  head_slot: number;
  head_root: string;
  justified_slot: number;
  justified_root: string;
  finalized_slot: number;
  finalized_root: string;
  peers: number;
  sync_state: "IDLE" | "SYNCING" | "SYNCED";
  ticks: number;
  last_tick_age_ms: number;
  intervals_missed: number;
  drops: Record<string, number>;
  /** Where libp2p runs: its own worker thread (the default) or the main thread. */
  network_thread?: "main" | "worker";
  /** Times the network worker died and was restarted since the node started (0 on the main thread). */
  network_worker_restarts?: number;
  /** The database write queue (absent from nodes older than this field). */
  database?: DatabaseHealth;
  /**
   * The in-node validators' signing gate: `off` (no wait) or `passed` sign normally, `waiting`
   * signs nothing until `first_signing_slot`, `detected` signs nothing until an operator restarts
   * the node (`doppelganger` names the evidence). Not a health rule: a restart would not help.
   */
  signing?: {
    validators: number;
    doppelganger_state: "off" | "waiting" | "passed" | "detected";
    first_signing_slot: number | null;
    doppelganger: { validator_index: number; duty: string; slot: number; signing_root: string } | null;
    slashing_protection_refusals: number;
  };
}

export interface DatabaseHealth {
  queued_writes: number;
  queued_bytes: number;
  /** Failures in a row of the write at the head of the queue; the node is unhealthy while > 0. */
  consecutive_failures: number;
  write_failures: number;
  last_error: string | null;
  finality_superseded: number;
  imports_refused: number;
  backpressure: boolean;
}

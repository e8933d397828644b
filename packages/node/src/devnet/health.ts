// The supervisor's view of a node (GET /lean/v0/health). The devnet launcher, the flood benchmark
// and external supervisors read this shape; numbers are plain JSON numbers on this lean route.

export interface NodeHealth {
  status: "healthy" | "unhealthy";
  reasons: string[];
  node_id: number | null;
  peer_id: string;
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
}

export async function fetchHealth(url: string, timeoutMs = 2000): Promise<NodeHealth | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200 && res.status !== 503) return null;
    return (await res.json()) as NodeHealth;
  } catch {
    return null;
  }
}

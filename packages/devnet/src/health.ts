// Reading a node's health and headers over HTTP (GET /lean/v0/health) for the devnet launcher and
// the flood benchmark; the report's shape lives with the API (api/health.ts).

import { ApiClient, headerRoute, healthRoute, type NodeHealth } from "@metronome/api";
import { toHex } from "@metronome/chain";

export type { DatabaseHealth, NodeHealth } from "@metronome/api";

/** A node's health report from `url` (its /lean/v0/health), or null when it is silent or answers nonsense. */
export async function fetchHealth(url: string, timeoutMs = 2000): Promise<NodeHealth | null> {
  try {
    return await new ApiClient({ baseUrl: new URL(url).origin, timeoutMs }).call(healthRoute, undefined);
  } catch {
    return null;
  }
}

/** A node's canonical block root at `slot` (its headers route), or null when it has none or is silent. */
export async function fetchHeaderRoot(apiBase: string, slot: number, timeoutMs = 2000): Promise<string | null> {
  try {
    const header = await new ApiClient({ baseUrl: apiBase, timeoutMs }).call(headerRoute, { blockId: slot });
    return toHex(header.root);
  } catch {
    return null;
  }
}

/** Header lookups at the end of a run: a node busy under load gets a few slower tries before it counts as silent. */
const PATIENT_HEADER_ATTEMPTS = 3;
const PATIENT_HEADER_TIMEOUT_MS = 5_000;

/** `fetchHeaderRoot` retried: the end-of-run verdict must not call a slow node a disagreeing one. */
export async function fetchHeaderRootPatiently(apiBase: string, slot: number): Promise<string | null> {
  for (let attempt = 0; attempt < PATIENT_HEADER_ATTEMPTS; attempt++) {
    const root = await fetchHeaderRoot(apiBase, slot, PATIENT_HEADER_TIMEOUT_MS);
    if (root !== null) return root;
  }
  return null;
}

/**
 * Resolves once the run should stop: on SIGINT or SIGTERM, after `durationS` when given, or at once
 * when `alreadyRequested` says a signal came before the run took over its handling.
 */
export function stopRequested(o: { message: string; durationS?: number; alreadyRequested?: boolean }): Promise<void> {
  return new Promise<void>((resolveStop) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      console.log(o.message);
      resolveStop();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (o.alreadyRequested === true) onSignal();
    if (o.durationS !== undefined) setTimeout(onSignal, o.durationS * 1000).unref();
  });
}

/**
 * Why a health answer on a node's port is not from that node of this devnet (null when it is): a
 * different fork digest is another chain, a different peer id another devnet of the same genesis
 * second. Such a node is shown as foreign and never counted as one of ours.
 */
export function foreignReason(
  health: Pick<NodeHealth, "fork_digest" | "peer_id">,
  expected: { forkDigest?: string; peerId?: string },
): string | null {
  if (expected.forkDigest !== undefined && health.fork_digest !== expected.forkDigest) {
    return `foreign: fork ${String(health.fork_digest ?? "(none)").slice(0, 10)}`;
  }
  if (expected.peerId !== undefined && expected.peerId !== "" && health.peer_id !== expected.peerId) {
    return `foreign: peer ${String(health.peer_id).slice(0, 16)}`;
  }
  return null;
}

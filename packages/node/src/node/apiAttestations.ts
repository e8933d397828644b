// Attestations posted to the validator API: the same two-step admission as gossip (structural
// checks on the main thread, signatures through the BLS verifier, usually the worker pool), in
// chunks that leave the verifier room for gossip and yield the event loop between them.
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import type { PublishResult } from "@metronome/api";
import { ApiError } from "@metronome/api";
import type { BlsVerifier, SignatureSetInput } from "@metronome/bls";
import { verifierSignatureSet } from "@metronome/bls";
import type { SignedAttestation } from "@metronome/chain";
import type { ApiServerStats } from "../api/serverLimits.ts";
import type { AttestationOutcome, BeaconChain, PreparedAttestation } from "../chain/interface.ts";

/** Sets per verifier call: half a worker batch, so each chunk's structural checks hold the loop ~1-2 ms. */
export const API_VERIFY_CHUNK = 32;
/** Verifier room kept for gossip: an API chunk waits unless this much stays free after it. */
export const API_VERIFIER_RESERVE = 64;
/** How long one request waits in total for verifier room before a 503. */
export const API_VERIFIER_WAIT_MS = 10_000;
/** Poll step while waiting for room (the verifier has no room-freed event). */
const ROOM_POLL_MS = 5;

export interface ApiAttestationDeps {
  chain: BeaconChain;
  verifier: BlsVerifier;
  stats: ApiServerStats;
  /** Gossip an accepted attestation. */
  publish(att: SignedAttestation): void;
  /** Total wait for verifier room per request; API_VERIFIER_WAIT_MS unless a test shortens it. */
  waitMs?: number;
}

function toPublishResult(outcome: AttestationOutcome): PublishResult {
  if (outcome.status === "accepted") return { status: "imported" };
  if (outcome.status === "buffered") return { status: "pending" };
  return { status: "rejected", code: outcome.code };
}

async function waitForRoom(verifier: BlsVerifier, sets: number, deadline: number, stats: ApiServerStats) {
  while (verifier.capacityLeft() < sets + API_VERIFIER_RESERVE) {
    if (Date.now() >= deadline) {
      stats.requestsRefused.verifier_busy++;
      throw new ApiError(503, "Signature verifier busy: retry later");
    }
    await sleep(ROOM_POLL_MS);
  }
}

export async function publishApiAttestations(
  deps: ApiAttestationDeps,
  atts: readonly SignedAttestation[],
): Promise<PublishResult[]> {
  const results: PublishResult[] = new Array(atts.length);
  const deadline = Date.now() + (deps.waitMs ?? API_VERIFIER_WAIT_MS);
  for (let start = 0; start < atts.length; start += API_VERIFY_CHUNK) {
    if (start > 0) await nextTurn();
    const chunk = atts.slice(start, start + API_VERIFY_CHUNK);
    await waitForRoom(deps.verifier, chunk.length, deadline, deps.stats);
    const waiting: {
      at: number;
      att: SignedAttestation;
      prepared: Extract<PreparedAttestation, { kind: "verify" }>;
    }[] = [];
    const sets: SignatureSetInput[] = [];
    chunk.forEach((att, i) => {
      const prepared = deps.chain.prepareAttestation(att);
      if (prepared.kind === "done") {
        results[start + i] = toPublishResult(prepared.outcome);
        return;
      }
      waiting.push({ at: start + i, att, prepared });
      sets.push(verifierSignatureSet(deps.verifier, prepared.set));
    });
    if (sets.length === 0) continue;
    let verdicts: boolean[];
    try {
      verdicts = await deps.verifier.verifySets(sets);
    } catch {
      deps.stats.requestsRefused.verifier_busy++;
      throw new ApiError(503, "Signature verifier busy: retry later");
    }
    waiting.forEach((w, i) => {
      const valid = verdicts[i] === true;
      deps.stats.signatures[valid ? "valid" : "invalid"]++;
      const outcome = w.prepared.complete(valid);
      if (outcome.status === "accepted") deps.publish(w.att);
      results[w.at] = toPublishResult(outcome);
    });
  }
  return results;
}

// Lean routes (PROTOCOL.md section 7, leanSpec node/api): the finalized State and SignedBlock as SSZ
// for checkpoint sync, the justified checkpoint, and the fork-choice tree for debugging.

import { ApiError } from "@metronome/api";
import {
  type Checkpoint,
  rootKey,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
  type State as StateValue,
  toHex,
} from "@metronome/chain";
import type { FastifyInstance, FastifyReply } from "fastify";

/** The finalized checkpoint with its post-state and signed block (ChainDb.getAnchor has this shape). */
export interface FinalizedAnchor {
  checkpoint: Checkpoint;
  state: StateValue;
  block: SignedBlockValue;
}

export interface ForkChoiceNodeView {
  root: Uint8Array;
  slot: number;
  parentRoot: Uint8Array;
  weight: number;
  proposerIndex?: number;
}

export interface LeanRoutesBackend {
  /** null before the node has persisted any anchor. */
  finalizedAnchor(): Promise<FinalizedAnchor | null>;
  /** Fork-choice tree with counted-vote weights (the chain's forkChoiceNodes query). */
  forkChoiceNodes(): readonly ForkChoiceNodeView[];
  head(): Checkpoint;
  justified(): Checkpoint;
  finalized(): Checkpoint;
  safeTarget(): Checkpoint;
  validatorCount(): number | null;
}

/** Response headers naming the anchor both SSZ routes serve, so a client can tell two halves apart. */
export const ANCHOR_ROOT_HEADER = "x-lean-finalized-root";
export const ANCHOR_SLOT_HEADER = "x-lean-finalized-slot";

interface EncodedAnchor {
  key: string;
  slot: number;
  state: Uint8Array;
  block: Uint8Array;
}

/**
 * One encoded anchor is kept (the newest one asked for), and concurrent requests share one load,
 * so repeated downloads of a large state cost one encoding per finalized checkpoint.
 */
class AnchorCache {
  private current: EncodedAnchor | null = null;
  private loading: Promise<EncodedAnchor | null> | null = null;
  private readonly backend: LeanRoutesBackend;

  constructor(backend: LeanRoutesBackend) {
    this.backend = backend;
  }

  async get(): Promise<EncodedAnchor | null> {
    const finalizedKey = rootKey(this.backend.finalized().root);
    if (this.current !== null && this.current.key === finalizedKey) return this.current;
    if (this.loading === null) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  private async load(): Promise<EncodedAnchor | null> {
    const anchor = await this.backend.finalizedAnchor();
    if (anchor === null) return this.current;
    const encoded: EncodedAnchor = {
      key: rootKey(anchor.checkpoint.root),
      slot: anchor.checkpoint.slot,
      state: State.serialize(anchor.state),
      block: SignedBlock.serialize(anchor.block),
    };
    if (this.current === null || encoded.slot >= this.current.slot) this.current = encoded;
    return encoded;
  }
}

function checkpointJson(cp: Checkpoint): { slot: number; root: string } {
  return { slot: cp.slot, root: toHex(cp.root) };
}

function sendSsz(reply: FastifyReply, anchor: EncodedAnchor, bytes: Uint8Array): FastifyReply {
  return reply
    .header("content-type", "application/octet-stream")
    .header(ANCHOR_ROOT_HEADER, anchor.key)
    .header(ANCHOR_SLOT_HEADER, String(anchor.slot))
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export function leanRoutesPlugin(backend: LeanRoutesBackend): (app: FastifyInstance) => void {
  const cache = new AnchorCache(backend);
  const anchorOr404 = async (): Promise<EncodedAnchor> => {
    const anchor = await cache.get();
    if (anchor === null) throw new ApiError(404, "No finalized anchor available yet");
    return anchor;
  };

  return (app) => {
    app.get("/lean/v0/states/finalized", async (_req, reply) => {
      const anchor = await anchorOr404();
      return sendSsz(reply, anchor, anchor.state);
    });

    app.get("/lean/v0/blocks/finalized", async (_req, reply) => {
      const anchor = await anchorOr404();
      return sendSsz(reply, anchor, anchor.block);
    });

    app.get("/lean/v0/checkpoints/justified", async () => checkpointJson(backend.justified()));

    // leanSpec's shape (plain JSON numbers, as on the other lean routes), plus head_slot.
    app.get("/lean/v0/fork_choice", async () => {
      const finalized = backend.finalized();
      const head = backend.head();
      const nodes = backend
        .forkChoiceNodes()
        .filter((n) => n.slot >= finalized.slot)
        .map((n) => ({
          root: toHex(n.root),
          slot: n.slot,
          parent_root: toHex(n.parentRoot),
          proposer_index: n.proposerIndex ?? null,
          weight: n.weight,
        }));
      return {
        nodes,
        head: toHex(head.root),
        head_slot: head.slot,
        justified: checkpointJson(backend.justified()),
        finalized: checkpointJson(finalized),
        safe_target: toHex(backend.safeTarget().root),
        validator_count: backend.validatorCount(),
      };
    });
  };
}

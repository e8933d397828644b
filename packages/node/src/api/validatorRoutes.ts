// Routes for a separate validator client under /lean/v0/validator/ (PROTOCOL.md section 7). The
// node builds blocks and votes; the client holds the keys. A block's signature is one aggregate
// (the proposer's over the block plus each body attestation's aggregate), so block production
// returns the body's attestation signatures and the node also keeps them: the client may post back
// either the finished aggregate or only its own proposer signature for the node to fold in.
// JSON follows the SSZ containers' snake_case form: quoted integers, 0x-hex bytes. Query integers are
// read exactly (queryParams.ts) and answered by meaning; a body's uint64 above 2^53 - 1 is a 400
// naming the field (parseSszJson): the chain holds slots and indices as JS numbers.
import { setImmediate as nextTurn } from "node:timers/promises";
import {
  ApiError,
  ATTESTATION_POST_BODY_LIMIT_BYTES,
  attestationDataRoute,
  BLOCK_POST_BODY_LIMIT_BYTES,
  bearerChecker,
  CHAIN_UINT_MAX,
  type DutyEntry,
  dutiesRoute,
  MAX_ATTESTATIONS_PER_POST,
  MAX_DUTY_ENTRIES,
  MAX_DUTY_SLOTS,
  type ProducedBlock,
  type PublishResult,
  parseSszJson,
  produceBlockRoute,
  VALIDATOR_ROUTES,
} from "@metronome/api";
import {
  type AttestationData as AttestationDataValue,
  aggregateSignatureBytes,
  Block,
  type Block as BlockValue,
  isChainError,
  proposerIndexForSlot,
  rootKey,
  SignedAttestation,
  type SignedAttestation as SignedAttestationValue,
  type SignedBlock,
  signatureFromBytes,
  toHex,
} from "@metronome/chain";
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import { ClientLimiter, RETRY_AFTER_SECONDS } from "./clientLimiter.ts";
import { parseIndices, queryChainUint, queryUint64 } from "./queryParams.ts";
import { ApiServerStats } from "./serverLimits.ts";

export interface ValidatorBackend {
  currentSlot(): number;
  validatorCount(): number;
  validatorPubkey(index: number): Uint8Array | undefined;
  attestationSubnetCount(): number;
  /** The vote for `slot` as the store produces it; may throw ChainError. */
  attestationData(slot: number): AttestationDataValue;
  /** An unsigned block on the head, built without touching the store (chain.produceBlock); may throw ChainError. */
  produceBlock(slot: number, proposerIndex: number): ProducedBlock;
  /** signing_root(block, DOMAIN_BLOCK) under this chain's fork digest. */
  blockSigningRoot(block: BlockValue): Uint8Array;
  /** Verify, import and gossip a signed block. */
  publishBlock(block: SignedBlock): Promise<PublishResult>;
  /**
   * Validate, verify (off the main thread, through the chain worker pool) and import and gossip
   * these attestations; one result per attestation, in order. Throws ApiError(503) when the
   * verifier stays too busy to take them.
   */
  publishAttestations(atts: readonly SignedAttestationValue[]): Promise<PublishResult[]>;
}

export interface ValidatorRoutesOptions {
  /** Produced blocks whose attestation signatures are kept for a proposer-only signature (FIFO). */
  maxProducedBlocks?: number;
  /** When set, every validator route needs `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Concurrency bounds of the attestation route (per client and overall). */
  limiter?: ClientLimiter;
  stats?: ApiServerStats;
}

const DEFAULT_MAX_PRODUCED_BLOCKS = 32;

/**
 * Attestations parsed per event-loop turn: strict SSZ-JSON parsing costs ~0.1-0.2 ms each on a busy
 * 2-core box, so a chunk holds the loop ~2-3 ms and a 1024-item request never delays a tick.
 */
export const PARSE_CHUNK = 16;

// ---- input parsing ---------------------------------------------------------------------------

function parseSignature(raw: unknown, what: string): Uint8Array {
  if (typeof raw !== "string" || !/^0x[0-9a-fA-F]{192}$/.test(raw)) {
    throw new ApiError(400, `Invalid ${what}: expected 96 bytes of 0x-hex`);
  }
  const bytes = new Uint8Array(Buffer.from(raw.slice(2), "hex"));
  if (signatureFromBytes(bytes) === null) throw new ApiError(400, `Invalid ${what}: not a BLS signature`);
  return bytes;
}

/** Protocol rejections from the backend become 400s; anything else stays a 500. */
function rethrowChainError(err: unknown): never {
  if (isChainError(err)) throw new ApiError(400, err.message);
  throw err;
}

function sendPublishResult(reply: FastifyReply, result: PublishResult, root: Uint8Array | null): FastifyReply {
  if (result.status === "rejected") {
    throw new ApiError(400, result.message ?? `Rejected: ${result.code}`);
  }
  return reply.code(result.status === "pending" ? 202 : 200).send({
    data: { status: result.status, ...(root === null ? {} : { root: toHex(root) }) },
  });
}

// ---- the plugin --------------------------------------------------------------------------------

/** Attestation signatures of recently produced blocks, by block root; oldest evicted first. */
class ProducedBlocks {
  private readonly entries = new Map<string, Uint8Array[]>();
  private readonly cap: number;

  constructor(cap: number) {
    this.cap = cap;
  }

  remember(root: Uint8Array, signatures: Uint8Array[]): void {
    const key = rootKey(root);
    this.entries.delete(key);
    this.entries.set(key, signatures);
    while (this.entries.size > this.cap) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get(root: Uint8Array): Uint8Array[] | undefined {
    return this.entries.get(rootKey(root));
  }
}

export function validatorRoutesPlugin(
  backend: ValidatorBackend,
  options: ValidatorRoutesOptions = {},
): (app: FastifyInstance) => void {
  const produced = new ProducedBlocks(Math.max(1, options.maxProducedBlocks ?? DEFAULT_MAX_PRODUCED_BLOCKS));
  const stats = options.stats ?? new ApiServerStats();
  const limiter = options.limiter ?? new ClientLimiter();
  const authorized = options.token === undefined ? null : bearerChecker(options.token);

  // Runs before the body is read: an unauthenticated caller costs a header comparison.
  const authenticate: onRequestHookHandler = async (req) => {
    if (authorized !== null && !authorized(req.headers.authorization)) {
      stats.requestsRefused.unauthorized++;
      throw new ApiError(401, "Missing or wrong bearer token (see the node's api-token.txt)");
    }
  };
  // Also before the body: a client past its share of concurrent verifications gets a 429 at once.
  const admit: onRequestHookHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const release = limiter.tryAcquire(req.ip);
    if (release === null) {
      stats.requestsRefused.rate_limited++;
      // Close instead of reading the refused body on a kept-alive socket.
      void reply.header("Retry-After", String(RETRY_AFTER_SECONDS)).header("Connection", "close");
      throw new ApiError(429, "Too many concurrent attestation submissions from this client");
    }
    reply.raw.once("close", release);
    // An admitted post may wait for verifier room and verification longer than the idle-socket
    // timeout; its upload stays bounded by the request timeout, its work by the verifier wait.
    req.raw.socket.setTimeout(0);
  };

  /** The slot as the chain's number once it is known not to be in the future (so it fits). */
  const notFuture = (slot: bigint): number => {
    const current = backend.currentSlot();
    if (slot > BigInt(current)) throw new ApiError(400, `Slot ${slot} is in the future (current slot ${current})`);
    return Number(slot);
  };

  return (app) => {
    app.get<{ Querystring: { slot?: string; indices?: string | string[]; count?: string } }>(
      VALIDATOR_ROUTES.duties,
      { onRequest: authenticate },
      async (req) => {
        const count = req.query.count === undefined ? 1 : queryChainUint(req.query.count, "count");
        if (count < 1 || count > MAX_DUTY_SLOTS) throw new ApiError(400, `Invalid count: 1..${MAX_DUTY_SLOTS}`);
        // Duties are computed in the chain's numbers: the last slot asked must fit them.
        const slot = queryChainUint(req.query.slot, "slot");
        // Compared without summing: slot + count itself could pass 2^53 and round.
        if (slot > CHAIN_UINT_MAX - (count - 1)) {
          throw new ApiError(
            400,
            `Invalid slot: ${slot} + ${count} slots reach past 2^53 - 1, the last slot this node's chain holds`,
          );
        }
        const validatorCount = backend.validatorCount();
        const indices = parseIndices(req.query.indices, validatorCount);
        if (indices.length * count > MAX_DUTY_ENTRIES) {
          throw new ApiError(400, `Too many duties requested: indices x count must be <= ${MAX_DUTY_ENTRIES}`);
        }
        const wanted = new Set(indices);
        const subnets = Math.max(1, backend.attestationSubnetCount());
        const pubkey = (i: number) => toHex(backend.validatorPubkey(i) ?? new Uint8Array(48));
        const proposers: DutyEntry[] = [];
        const attesters: DutyEntry[] = [];
        for (let s = slot; s < slot + count; s++) {
          const proposer = proposerIndexForSlot(s, validatorCount);
          if (wanted.has(proposer)) {
            proposers.push({ slot: s, validatorIndex: proposer, pubkey: pubkey(proposer), interval: 0 });
          }
          for (const i of indices) {
            attesters.push({ slot: s, validatorIndex: i, pubkey: pubkey(i), subnetId: i % subnets, interval: 1 });
          }
        }
        return dutiesRoute.encode({ validatorCount, proposers, attesters });
      },
    );

    app.get<{ Querystring: { slot?: string } }>(
      VALIDATOR_ROUTES.attestationData,
      { onRequest: authenticate },
      async (req) => {
        const slot = notFuture(queryUint64(req.query.slot, "slot"));
        let data: AttestationDataValue;
        try {
          data = backend.attestationData(slot);
        } catch (err) {
          rethrowChainError(err);
        }
        return attestationDataRoute.encode(data);
      },
    );

    app.get<{ Querystring: { slot?: string; proposer_index?: string } }>(
      VALIDATOR_ROUTES.block,
      { onRequest: authenticate },
      async (req) => {
        const askedSlot = queryUint64(req.query.slot, "slot");
        const askedProposer = queryUint64(req.query.proposer_index, "proposer_index");
        const slot = notFuture(askedSlot);
        const validatorCount = backend.validatorCount();
        if (validatorCount === 0 || askedProposer !== BigInt(proposerIndexForSlot(slot, validatorCount))) {
          throw new ApiError(400, `Validator ${askedProposer} does not propose slot ${slot}`);
        }
        const proposerIndex = Number(askedProposer);
        let result: ProducedBlock;
        try {
          result = backend.produceBlock(slot, proposerIndex);
        } catch (err) {
          rethrowChainError(err);
        }
        const root = Block.hashTreeRoot(result.block);
        produced.remember(root, result.attestationSignatures);
        return produceBlockRoute.encode({
          block: result.block,
          blockRoot: root,
          signingRoot: backend.blockSigningRoot(result.block),
          attestationSignatures: result.attestationSignatures,
        });
      },
    );

    app.post<{ Body: unknown }>(
      VALIDATOR_ROUTES.block,
      { onRequest: authenticate, bodyLimit: BLOCK_POST_BODY_LIMIT_BYTES },
      async (req, reply) => {
        const body = req.body;
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          throw new ApiError(400, "Expected a JSON object {block, signature} or {block, proposer_signature}");
        }
        const {
          block: blockJson,
          signature,
          proposer_signature: proposerSignature,
          ...rest
        } = body as Record<string, unknown>;
        const extra = Object.keys(rest);
        if (extra.length > 0) throw new ApiError(400, `Unknown field: ${extra[0]?.slice(0, 64)}`);
        if ((signature === undefined) === (proposerSignature === undefined)) {
          throw new ApiError(400, "Send exactly one of signature (the full aggregate) or proposer_signature");
        }
        const block = parseSszJson(Block, blockJson, "block");
        const root = Block.hashTreeRoot(block);
        let finalSignature: Uint8Array;
        if (signature !== undefined) {
          finalSignature = parseSignature(signature, "signature");
        } else {
          const proposerSig = parseSignature(proposerSignature, "proposer_signature");
          const attestationSigs = block.body.attestations.length === 0 ? [] : produced.get(root);
          if (attestationSigs === undefined) {
            throw new ApiError(
              400,
              `Block ${toHex(root)} was not produced by this node (or is too old); send signature with the full aggregate`,
            );
          }
          finalSignature = aggregateSignatureBytes([proposerSig, ...attestationSigs]);
        }
        return sendPublishResult(reply, await backend.publishBlock({ block, signature: finalSignature }), root);
      },
    );

    app.post<{ Body: unknown }>(
      VALIDATOR_ROUTES.attestation,
      { onRequest: [authenticate, admit], bodyLimit: ATTESTATION_POST_BODY_LIMIT_BYTES },
      async (req, reply) => {
        const body = req.body;
        const items = Array.isArray(body) ? body : [body];
        if (items.length === 0) throw new ApiError(400, "Expected a SignedAttestation or a non-empty list of them");
        if (items.length > MAX_ATTESTATIONS_PER_POST) {
          throw new ApiError(400, `Too many attestations in one request (limit ${MAX_ATTESTATIONS_PER_POST})`);
        }
        const failures: { index: number; message: string }[] = [];
        const parsed: { index: number; att: SignedAttestationValue }[] = [];
        const validatorCount = backend.validatorCount();
        for (const [index, item] of items.entries()) {
          if (index > 0 && index % PARSE_CHUNK === 0) await nextTurn();
          try {
            const att = parseSszJson(SignedAttestation, item, "attestation");
            if (att.validatorIndex >= validatorCount) {
              throw new ApiError(400, `Unknown validator index ${att.validatorIndex}`);
            }
            // No curve-point check here (~0.1 ms each on this thread): the verifier validates every
            // signature off the main thread and a malformed one fails as INVALID_SIGNATURE.
            parsed.push({ index, att });
          } catch (err) {
            if (!(err instanceof ApiError) && !isChainError(err)) throw err;
            failures.push({ index, message: err.message });
          }
        }
        let pending = false;
        if (parsed.length > 0) {
          const results = await backend.publishAttestations(parsed.map((p) => p.att));
          results.forEach((result, i) => {
            const index = parsed[i]?.index ?? -1;
            if (result.status === "rejected") failures.push({ index, message: result.message ?? result.code });
            else if (result.status === "pending") pending = true;
          });
        }
        if (failures.length > 0) {
          failures.sort((x, y) => x.index - y.index);
          const message =
            items.length === 1 ? (failures[0]?.message ?? "Invalid attestation") : "Some attestations failed";
          return reply.code(400).send({ code: 400, message, failures });
        }
        return reply.code(pending ? 202 : 200).send({ data: { status: pending ? "pending" : "imported" } });
      },
    );
  };
}

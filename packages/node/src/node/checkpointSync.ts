// Checkpoint sync: start from a peer's finalized State and SignedBlock (GET /lean/v0/states/finalized
// and /lean/v0/blocks/finalized) instead of replaying from genesis. Nothing from the peer is
// trusted: both halves must decode, the block must commit to the state, and the state must belong
// to our chain (same genesis time and validators, hence the same fork digest). Every failure is a
// CheckpointSyncError with a stable code.
import {
  Block,
  bytesEqual,
  computeForkDigest,
  createGenesisState,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
  State,
  type State as StateValue,
  toHex,
  tryDecode,
  Validator,
} from "@metronome/chain";

export const CheckpointSyncErrorCode = {
  FETCH_FAILED: "FETCH_FAILED",
  TIMEOUT: "TIMEOUT",
  HTTP_STATUS: "HTTP_STATUS",
  TOO_LARGE: "TOO_LARGE",
  MALFORMED_STATE: "MALFORMED_STATE",
  MALFORMED_BLOCK: "MALFORMED_BLOCK",
  STATE_ROOT_MISMATCH: "STATE_ROOT_MISMATCH",
  SLOT_MISMATCH: "SLOT_MISMATCH",
  GENESIS_MISMATCH: "GENESIS_MISMATCH",
  ROOT_MISMATCH: "ROOT_MISMATCH",
} as const;
export type CheckpointSyncErrorCode = (typeof CheckpointSyncErrorCode)[keyof typeof CheckpointSyncErrorCode];

export class CheckpointSyncError extends Error {
  readonly code: CheckpointSyncErrorCode;

  constructor(code: CheckpointSyncErrorCode, message: string) {
    super(`checkpoint sync ${code}: ${message}`);
    this.name = "CheckpointSyncError";
    this.code = code;
  }
}

export function isCheckpointSyncError(err: unknown, code?: CheckpointSyncErrorCode): err is CheckpointSyncError {
  return err instanceof CheckpointSyncError && (code === undefined || err.code === code);
}

export const FINALIZED_STATE_PATH = "/lean/v0/states/finalized";
export const FINALIZED_BLOCK_PATH = "/lean/v0/blocks/finalized";
const ANCHOR_ROOT_HEADER = "x-lean-finalized-root";
export const DEFAULT_MAX_ANCHOR_BYTES = 256 * 1024 * 1024;
/** Finality can advance between the two downloads; re-fetch this many times before giving up. */
const MAX_ATTEMPTS = 3;

export type ExpectedChain = { genesisState: StateValue } | { forkDigest: Uint8Array };

export interface FetchAnchorOptions {
  /** Our chain: its genesis state (best: genesis time and validators compared) or fork digest. */
  expected: ExpectedChain;
  /** Per request. */
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Weak-subjectivity root: when given, the anchor block's root must equal it. */
  trustedRoot?: Uint8Array;
  /** Cap on each download. */
  maxBytes?: number;
}

export interface CheckpointAnchor {
  state: StateValue;
  block: SignedBlockValue;
  root: Uint8Array;
}

interface Download {
  bytes: Uint8Array;
  anchorRoot: string | null;
}

async function download(url: string, opts: FetchAnchorOptions): Promise<Download> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_ANCHOR_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const fail = (err: unknown): never => {
    if (err instanceof CheckpointSyncError) throw err;
    if (signal.aborted) {
      throw new CheckpointSyncError(CheckpointSyncErrorCode.TIMEOUT, `${url} took longer than ${opts.timeoutMs} ms`);
    }
    throw new CheckpointSyncError(
      CheckpointSyncErrorCode.FETCH_FAILED,
      `${url}: ${err instanceof Error ? err.message : String(err)}`,
    );
  };
  let res: Response;
  try {
    res = await fetchImpl(url, { signal, headers: { accept: "application/octet-stream" } });
  } catch (err) {
    return fail(err);
  }
  try {
    if (res.status !== 200) {
      const text = new TextDecoder().decode(await readPrefix(res, 200));
      throw new CheckpointSyncError(CheckpointSyncErrorCode.HTTP_STATUS, `${url} answered ${res.status}: ${text}`);
    }
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > maxBytes) {
      throw new CheckpointSyncError(
        CheckpointSyncErrorCode.TOO_LARGE,
        `${url} declares ${declared} bytes > ${maxBytes}`,
      );
    }
    const bytes = await readCapped(res, maxBytes, url);
    return { bytes, anchorRoot: res.headers.get(ANCHOR_ROOT_HEADER) };
  } catch (err) {
    return fail(err);
  }
}

/** At most the first `limit` bytes of the body (an error message), never the whole of it. */
async function readPrefix(res: Response, limit: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const reader = res.body.getReader();
  const { value } = await reader.read();
  await reader.cancel().catch(() => undefined);
  return value === undefined ? new Uint8Array(0) : value.subarray(0, limit);
}

/** The body, refusing to hold more than `maxBytes` whatever the peer declared. */
async function readCapped(res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new CheckpointSyncError(CheckpointSyncErrorCode.TOO_LARGE, `${url} sent more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The state belongs to our chain: same genesis time and validator registry (so same fork digest). */
export function checkSameChain(state: StateValue, expected: ExpectedChain): void {
  if ("genesisState" in expected) {
    const genesis = expected.genesisState;
    if (state.config.genesisTime !== genesis.config.genesisTime) {
      throw new CheckpointSyncError(
        CheckpointSyncErrorCode.GENESIS_MISMATCH,
        `genesis time ${state.config.genesisTime} != ours ${genesis.config.genesisTime}`,
      );
    }
    if (state.validators.length !== genesis.validators.length) {
      throw new CheckpointSyncError(
        CheckpointSyncErrorCode.GENESIS_MISMATCH,
        `${state.validators.length} validators != our ${genesis.validators.length}`,
      );
    }
    for (let i = 0; i < genesis.validators.length; i++) {
      const ours = genesis.validators[i] as StateValue["validators"][number];
      if (!Validator.equals(state.validators[i] as typeof ours, ours)) {
        throw new CheckpointSyncError(CheckpointSyncErrorCode.GENESIS_MISMATCH, `validator ${i} differs from ours`);
      }
    }
    return;
  }
  // The registry is fixed at genesis, so the anchor state determines the genesis state.
  const digest = computeForkDigest(createGenesisState(state.config.genesisTime, [...state.validators]));
  if (!bytesEqual(digest, expected.forkDigest)) {
    throw new CheckpointSyncError(
      CheckpointSyncErrorCode.GENESIS_MISMATCH,
      `fork digest ${toHex(digest)} != ours ${toHex(expected.forkDigest)}`,
    );
  }
}

/** Decodes and checks one downloaded pair. */
export function verifyAnchor(
  stateBytes: Uint8Array,
  blockBytes: Uint8Array,
  opts: FetchAnchorOptions,
): CheckpointAnchor {
  const state = tryDecode(State, stateBytes);
  if (!state.ok) throw new CheckpointSyncError(CheckpointSyncErrorCode.MALFORMED_STATE, state.error.message);
  const block = tryDecode(SignedBlock, blockBytes);
  if (!block.ok) throw new CheckpointSyncError(CheckpointSyncErrorCode.MALFORMED_BLOCK, block.error.message);
  checkSameChain(state.value, opts.expected);
  const stateRoot = State.hashTreeRoot(state.value);
  if (!bytesEqual(block.value.block.stateRoot, stateRoot)) {
    throw new CheckpointSyncError(
      CheckpointSyncErrorCode.STATE_ROOT_MISMATCH,
      `block state_root ${toHex(block.value.block.stateRoot)} != hash_tree_root(state) ${toHex(stateRoot)}`,
    );
  }
  if (state.value.slot !== block.value.block.slot) {
    throw new CheckpointSyncError(
      CheckpointSyncErrorCode.SLOT_MISMATCH,
      `state slot ${state.value.slot} != block slot ${block.value.block.slot}`,
    );
  }
  const root = Block.hashTreeRoot(block.value.block);
  if (opts.trustedRoot !== undefined && !bytesEqual(root, opts.trustedRoot)) {
    throw new CheckpointSyncError(
      CheckpointSyncErrorCode.ROOT_MISMATCH,
      `anchor block root ${toHex(root)} != trusted root ${toHex(opts.trustedRoot)}`,
    );
  }
  return { state: state.value, block: block.value, root };
}

/**
 * Downloads a peer's finalized anchor from its HTTP API (`url` is the API base, e.g.
 * http://10.0.0.1:5052) and returns it verified. A pair torn by finality advancing between the two
 * downloads (the peer names different anchor roots) is fetched again, at most MAX_ATTEMPTS times.
 */
export async function fetchCheckpointAnchor(url: string, opts: FetchAnchorOptions): Promise<CheckpointAnchor> {
  const base = url.replace(/\/+$/, "");
  for (let attempt = 1; ; attempt++) {
    const block = await download(`${base}${FINALIZED_BLOCK_PATH}`, opts);
    const state = await download(`${base}${FINALIZED_STATE_PATH}`, opts);
    const torn = block.anchorRoot !== null && state.anchorRoot !== null && block.anchorRoot !== state.anchorRoot;
    if (torn && attempt < MAX_ATTEMPTS) continue;
    return verifyAnchor(state.bytes, block.bytes, opts);
  }
}

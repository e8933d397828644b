// The HTTP routes the validator client, the devnet tools and the tests call, defined once: the
// node's server registers their paths and encodes its answers with them, ApiClient decodes with
// them. JSON follows the Beacon API where a route exists there (quoted integers, 0x-hex bytes). A
// uint64 is read exactly from its decimal string and reaches the caller as the chain's number only
// when it is at most 2^53 - 1; a larger one is a decode error naming it, never a rounded number.
import {
  AttestationData,
  type AttestationData as AttestationDataValue,
  Block,
  BlockHeader,
  type BlockHeader as BlockHeaderValue,
  type Block as BlockValue,
  SignedAttestation,
  type SignedAttestation as SignedAttestationValue,
  toHex,
} from "@metronome/chain";
import type { NodeHealth } from "../health.ts";
import { parseSszJson } from "../sszJson.ts";
import { VALIDATOR_ROUTES } from "../validatorApi.ts";
import { defineRoute, hexField, objectField, plainUintField, uintField } from "./route.ts";

const SIGNATURE_BYTES = 96;
const ROOT_BYTES = 32;

/** The `data` member of a Beacon-API style answer. */
function dataOf(json: unknown, what: string): Record<string, unknown> {
  return objectField(objectField(json, what).data, `${what} data`);
}

// ---- node ------------------------------------------------------------------------------------

export const healthRoute = defineRoute<void, NodeHealth>({
  name: "health",
  method: "GET",
  path: "/lean/v0/health",
  url: () => "/lean/v0/health",
  answerStatuses: [503],
  encode: (health) => health,
  decode: (json) => {
    const health = objectField(json, "health");
    if (health.status !== "healthy" && health.status !== "unhealthy") throw new Error("health status is missing");
    plainUintField(health.head_slot, "health head_slot");
    return health as unknown as NodeHealth;
  },
});

export interface SyncingStatus {
  headSlot: number;
  syncDistance: number;
  isSyncing: boolean;
}

export const syncingRoute = defineRoute<void, SyncingStatus>({
  name: "syncing",
  method: "GET",
  path: VALIDATOR_ROUTES.syncing,
  url: () => VALIDATOR_ROUTES.syncing,
  encode: (s) => ({
    data: {
      head_slot: String(s.headSlot),
      sync_distance: String(s.syncDistance),
      is_syncing: s.isSyncing,
      is_optimistic: false,
      el_offline: false,
    },
  }),
  decode: (json) => {
    const data = dataOf(json, "syncing");
    if (typeof data.is_syncing !== "boolean") throw new Error("syncing is_syncing is not a boolean");
    return {
      headSlot: uintField(data.head_slot, "syncing head_slot"),
      syncDistance: uintField(data.sync_distance, "syncing sync_distance"),
      isSyncing: data.is_syncing,
    };
  },
});

export interface HeaderAnswer {
  root: Uint8Array;
  canonical: boolean;
  finalized: boolean;
  header: BlockHeaderValue;
  signature: Uint8Array;
}

export const headerRoute = defineRoute<{ blockId: string | number }, HeaderAnswer>({
  name: "block header",
  method: "GET",
  path: "/eth/v1/beacon/headers/:blockId",
  url: ({ blockId }) => `/eth/v1/beacon/headers/${encodeURIComponent(String(blockId))}`,
  encode: (h) => ({
    execution_optimistic: false,
    finalized: h.finalized,
    data: {
      root: toHex(h.root),
      canonical: h.canonical,
      header: { message: BlockHeader.toJson(h.header), signature: toHex(h.signature) },
    },
  }),
  decode: (json) => {
    const data = dataOf(json, "header");
    const signed = objectField(data.header, "header");
    return {
      root: hexField(data.root, ROOT_BYTES, "header root"),
      canonical: data.canonical === true,
      finalized: objectField(json, "header").finalized === true,
      header: parseSszJson(BlockHeader, signed.message, "header message"),
      signature: hexField(signed.signature, SIGNATURE_BYTES, "header signature"),
    };
  },
});

// ---- validator -------------------------------------------------------------------------------

export interface DutyEntry {
  slot: number;
  validatorIndex: number;
  pubkey: string;
  /** Attesters only. */
  subnetId?: number;
  /** The interval of the slot the duty runs in. */
  interval: number;
}

export interface DutiesAnswer {
  validatorCount: number;
  proposers: DutyEntry[];
  attesters: DutyEntry[];
}

function encodeDuty(d: DutyEntry): Record<string, string> {
  return {
    slot: String(d.slot),
    validator_index: String(d.validatorIndex),
    pubkey: d.pubkey,
    ...(d.subnetId === undefined ? {} : { subnet_id: String(d.subnetId) }),
    interval: String(d.interval),
  };
}

function decodeDuties(raw: unknown, what: string): DutyEntry[] {
  if (!Array.isArray(raw)) throw new Error(`duties response: ${what} is not a list`);
  return raw.map((e: unknown, i) => {
    const entry = objectField(e, `duties response: ${what} entry`);
    const at = `duties response: ${what}[${i}]`;
    return {
      slot: uintField(entry.slot, `${at}.slot`),
      validatorIndex: uintField(entry.validator_index, `${at}.validator_index`),
      pubkey: typeof entry.pubkey === "string" ? entry.pubkey : "",
      ...(entry.subnet_id === undefined ? {} : { subnetId: uintField(entry.subnet_id, `${at}.subnet_id`) }),
      interval: entry.interval === undefined ? 0 : uintField(entry.interval, `${at}.interval`),
    };
  });
}

export const dutiesRoute = defineRoute<{ slot: number; count: number; indices: readonly number[] }, DutiesAnswer>({
  name: "duties",
  method: "GET",
  path: VALIDATOR_ROUTES.duties,
  url: (r) => `${VALIDATOR_ROUTES.duties}?slot=${r.slot}&count=${r.count}&indices=${r.indices.join(",")}`,
  encode: (d) => ({
    data: {
      validator_count: String(d.validatorCount),
      proposers: d.proposers.map(encodeDuty),
      attesters: d.attesters.map(encodeDuty),
    },
  }),
  decode: (json) => {
    const data = dataOf(json, "duties");
    return {
      validatorCount: data.validator_count === undefined ? 0 : uintField(data.validator_count, "validator_count"),
      proposers: decodeDuties(data.proposers, "proposers"),
      attesters: decodeDuties(data.attesters, "attesters"),
    };
  },
});

export const attestationDataRoute = defineRoute<{ slot: number }, AttestationDataValue>({
  name: "attestation data",
  method: "GET",
  path: VALIDATOR_ROUTES.attestationData,
  url: ({ slot }) => `${VALIDATOR_ROUTES.attestationData}?slot=${slot}`,
  encode: (data) => ({ data: AttestationData.toJson(data) }),
  decode: (json) => parseSszJson(AttestationData, objectField(json, "attestation data").data, "attestation_data"),
});

export interface ProducedBlockAnswer {
  block: BlockValue;
  blockRoot: Uint8Array | null;
  /** The node's signing root of the block: a mismatch with the client's means another chain. */
  signingRoot: Uint8Array | null;
  /** Each body attestation's aggregate signature, in body order. */
  attestationSignatures: Uint8Array[];
}

export const produceBlockRoute = defineRoute<{ slot: number; proposerIndex: number }, ProducedBlockAnswer>({
  name: "block production",
  method: "GET",
  path: VALIDATOR_ROUTES.block,
  url: (r) => `${VALIDATOR_ROUTES.block}?slot=${r.slot}&proposer_index=${r.proposerIndex}`,
  encode: (p) => ({
    data: {
      block: Block.toJson(p.block),
      ...(p.blockRoot === null ? {} : { block_root: toHex(p.blockRoot) }),
      ...(p.signingRoot === null ? {} : { signing_root: toHex(p.signingRoot) }),
      attestation_signatures: p.attestationSignatures.map(toHex),
    },
  }),
  decode: (json) => {
    const data = dataOf(json, "block production");
    const block = parseSszJson(Block, data.block, "block");
    const sigs = data.attestation_signatures;
    if (!Array.isArray(sigs) || sigs.length !== block.body.attestations.length) {
      throw new Error("attestation_signatures do not match the block body");
    }
    return {
      block,
      blockRoot: data.block_root === undefined ? null : hexField(data.block_root, ROOT_BYTES, "block_root"),
      signingRoot: data.signing_root === undefined ? null : hexField(data.signing_root, ROOT_BYTES, "signing_root"),
      attestationSignatures: sigs.map((s) => hexField(s, SIGNATURE_BYTES, "malformed attestation signature")),
    };
  },
});

/** What a publish answered: imported, already known, or pending (accepted, not yet imported). */
export interface PublishAnswer {
  status: string;
}

function decodePublish(json: unknown): PublishAnswer {
  if (json === null) return { status: "imported" };
  const data = objectField(objectField(json, "publish answer").data ?? {}, "publish answer data");
  return { status: typeof data.status === "string" ? data.status : "imported" };
}

export const publishBlockRoute = defineRoute<{ block: BlockValue; signature: Uint8Array }, PublishAnswer>({
  name: "publish block",
  method: "POST",
  path: VALIDATOR_ROUTES.block,
  url: () => VALIDATOR_ROUTES.block,
  body: (r) => ({ block: Block.toJson(r.block), signature: toHex(r.signature) }),
  encode: (a) => ({ data: a }),
  decode: decodePublish,
});

export const publishAttestationsRoute = defineRoute<readonly SignedAttestationValue[], PublishAnswer>({
  name: "publish attestations",
  method: "POST",
  path: VALIDATOR_ROUTES.attestation,
  url: () => VALIDATOR_ROUTES.attestation,
  body: (atts) => atts.map((a) => SignedAttestation.toJson(a)),
  encode: (a) => ({ data: a }),
  decode: decodePublish,
});

/** Every route ApiClient knows, by name. */
export const API_ROUTES = {
  health: healthRoute,
  syncing: syncingRoute,
  header: headerRoute,
  duties: dutiesRoute,
  attestationData: attestationDataRoute,
  produceBlock: produceBlockRoute,
  publishBlock: publishBlockRoute,
  publishAttestations: publishAttestationsRoute,
} as const;

// The validator API's definitions (PROTOCOL.md section 7), shared by the node's routes
// (packages/node/src/api/validatorRoutes.ts) and the validator client (packages/validator): paths,
// result types and the bounds both sides hold to.
import type { UnsignedBlock } from "@metronome/chain";

/** Route paths of the lean validator API and the Beacon-API routes the validator client uses. */
export const VALIDATOR_ROUTES = {
  duties: "/lean/v0/validator/duties",
  attestationData: "/lean/v0/validator/attestation_data",
  block: "/lean/v0/validator/block",
  attestation: "/lean/v0/validator/attestation",
  syncing: "/eth/v1/node/syncing",
} as const;

/** An unsigned block and, in body order, each body attestation's aggregate signature. */
export type ProducedBlock = UnsignedBlock;

export type PublishResult =
  | { status: "imported" | "known" | "pending" }
  | { status: "rejected"; code: string; message?: string };

/** The widest slot range one duties request may ask for. */
export const MAX_DUTY_SLOTS = 64;
/** Duty entries one duties response may carry. */
export const MAX_DUTY_ENTRIES = 8192;
/** Attestations in one POST: a whole committee of a large devnet, bounded. */
export const MAX_ATTESTATIONS_PER_POST = 1024;

/** A POST /lean/v0/validator/attestation body: 1024 attestations of ~620 bytes of JSON each. */
export const ATTESTATION_POST_BODY_LIMIT_BYTES = 768 * 1024;
/** A signed block: 8 aggregates with their bit lists, far below this. */
export const BLOCK_POST_BODY_LIMIT_BYTES = 1024 * 1024;

// Protocol constants from PROTOCOL.md. Timing is carried in ChainConfig so tests and devnets
// can shorten slots; everything else is fixed by the protocol.

export const INTERVALS_PER_SLOT = 5;
export const SECONDS_PER_SLOT = 4;
export const GOSSIP_DISPARITY_INTERVALS = 1;
export const JUSTIFICATION_LOOKBACK_SLOTS = 3;
export const CLOCK_DISPARITY_MS = 100;

export const HISTORICAL_ROOTS_LIMIT = 2 ** 18;
export const VALIDATOR_REGISTRY_LIMIT = 2 ** 12;
export const MAX_ATTESTATIONS_DATA = 8;
/** 3SF-mini: the first slots after finalization are always justifiable. */
export const IMMEDIATE_JUSTIFICATION_WINDOW = 5;

export const ATTESTATION_COMMITTEE_COUNT = 1;
/** PROTOCOL.md 6: the pending-attestation buffer's FIFO cap per kind (the node's default capacity). */
export const MAX_PENDING_ATTESTATIONS = 1024;
export const MAX_REQUEST_BLOCKS = 1024;
/** PROTOCOL.md 6: BlocksByRoot requests in flight at once across all peers (the fetcher's default). */
export const MAX_CONCURRENT_BLOCKS_BY_ROOT = 8;

export const DOMAIN_BLOCK = Uint8Array.of(0x00, 0x00, 0x00, 0x00);
export const DOMAIN_ATTESTATION = Uint8Array.of(0x01, 0x00, 0x00, 0x00);

export const ZERO_ROOT: Uint8Array = new Uint8Array(32);

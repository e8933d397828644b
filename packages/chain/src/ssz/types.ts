// SSZ containers of PROTOCOL.md section 2. TypeScript keys are camelCase; the JSON form uses the
// protocol's snake_case names (jsonCase "eth2"), quoted integers and 0x-hex bytes.
// The hasher first: it must be chosen before anything hashes (see hasher.ts).
import "./hasher.ts";
import {
  BitListType,
  ByteVectorType,
  ContainerType,
  ListCompositeType,
  UintNumberType,
  type ValueOf,
} from "@chainsafe/ssz";
import {
  HISTORICAL_ROOTS_LIMIT,
  MAX_ATTESTATIONS_DATA,
  MAX_REQUEST_BLOCKS,
  VALIDATOR_REGISTRY_LIMIT,
} from "../constants.ts";

const opts = (typeName: string) => ({ typeName, jsonCase: "eth2" as const });

/**
 * uint64 as a JS number, exact up to 2^53 - 1. From bytes, 2^64 - 1 decodes to Infinity and other
 * values past 2^53 - 1 to the nearest float (>= 2^53), so they fail every range check. JSON that must
 * carry any uint64 exactly uses @metronome/api's exact twins (bigint).
 */
export const Uint64 = new UintNumberType(8, { clipInfinity: true });
export const Slot = Uint64;
export const ValidatorIndex = Uint64;
export const Bytes32 = new ByteVectorType(32);
export const Root = Bytes32;
export const BLSPubkey = new ByteVectorType(48);
export const BLSSignature = new ByteVectorType(96);

export const Checkpoint = new ContainerType({ root: Root, slot: Slot }, opts("Checkpoint"));

export const AttestationData = new ContainerType(
  { slot: Slot, head: Checkpoint, target: Checkpoint, source: Checkpoint },
  opts("AttestationData"),
);

export const SignedAttestation = new ContainerType(
  { validatorIndex: ValidatorIndex, data: AttestationData, signature: BLSSignature },
  opts("SignedAttestation"),
);

export const AggregationBits = new BitListType(VALIDATOR_REGISTRY_LIMIT);

export const AggregatedAttestation = new ContainerType(
  { aggregationBits: AggregationBits, data: AttestationData },
  opts("AggregatedAttestation"),
);

export const SignedAggregatedAttestation = new ContainerType(
  { aggregationBits: AggregationBits, data: AttestationData, signature: BLSSignature },
  opts("SignedAggregatedAttestation"),
);

export const AggregatedAttestations = new ListCompositeType(AggregatedAttestation, VALIDATOR_REGISTRY_LIMIT);

export const BlockBody = new ContainerType({ attestations: AggregatedAttestations }, opts("BlockBody"));

export const Block = new ContainerType(
  { slot: Slot, proposerIndex: ValidatorIndex, parentRoot: Root, stateRoot: Root, body: BlockBody },
  opts("Block"),
);

export const BlockHeader = new ContainerType(
  { slot: Slot, proposerIndex: ValidatorIndex, parentRoot: Root, stateRoot: Root, bodyRoot: Root },
  opts("BlockHeader"),
);

export const SignedBlock = new ContainerType({ block: Block, signature: BLSSignature }, opts("SignedBlock"));

/** SSZ: each element of a list of variable-size elements costs a 4-byte offset besides its bytes. */
const BYTES_PER_LENGTH_OFFSET = 4;

/**
 * The largest SignedBlock this node can import, in SSZ bytes (5,380). Every import path runs
 * assertValidBlockBody first, so a body holds at most MAX_ATTESTATIONS_DATA aggregates (a ninth
 * distinct data is TOO_MANY_ATTESTATION_DATA, a repeated one DUPLICATE_ATTESTATION_DATA), each at
 * most its type's maxSize. The type's own maxSize (4096 aggregates) is 2.6 MB: a block between the
 * two can only be rejected, and decoding and hashing one costs ~160 MB of short-lived objects, so
 * the network refuses one by its declared length, before reading or decompressing it.
 */
export const MAX_VALID_SIGNED_BLOCK_SIZE =
  SignedBlock.maxSize -
  (VALIDATOR_REGISTRY_LIMIT - MAX_ATTESTATIONS_DATA) * (BYTES_PER_LENGTH_OFFSET + AggregatedAttestation.maxSize);

export const Validator = new ContainerType({ pubkey: BLSPubkey, index: ValidatorIndex }, opts("Validator"));
export const Validators = new ListCompositeType(Validator, VALIDATOR_REGISTRY_LIMIT);

export const Config = new ContainerType({ genesisTime: Uint64 }, opts("Config"));

export const HistoricalBlockHashes = new ListCompositeType(Root, HISTORICAL_ROOTS_LIMIT);
export const JustifiedSlots = new BitListType(HISTORICAL_ROOTS_LIMIT);
export const JustificationRoots = new ListCompositeType(Root, HISTORICAL_ROOTS_LIMIT);
export const JustificationValidators = new BitListType(2 ** 30);

export const State = new ContainerType(
  {
    config: Config,
    slot: Slot,
    latestBlockHeader: BlockHeader,
    latestJustified: Checkpoint,
    latestFinalized: Checkpoint,
    historicalBlockHashes: HistoricalBlockHashes,
    justifiedSlots: JustifiedSlots,
    validators: Validators,
    justificationsRoots: JustificationRoots,
    justificationsValidators: JustificationValidators,
  },
  opts("State"),
);

export const Status = new ContainerType({ finalized: Checkpoint, head: Checkpoint }, opts("Status"));

export const BlocksByRootRequest = new ContainerType(
  { roots: new ListCompositeType(Root, MAX_REQUEST_BLOCKS) },
  opts("BlocksByRootRequest"),
);

export const BlocksByRangeRequest = new ContainerType({ startSlot: Slot, count: Uint64 }, opts("BlocksByRangeRequest"));

export const SigningData = new ContainerType({ objectRoot: Root, domain: Bytes32 }, opts("SigningData"));

export type Root = Uint8Array;
export type Checkpoint = ValueOf<typeof Checkpoint>;
export type AttestationData = ValueOf<typeof AttestationData>;
export type SignedAttestation = ValueOf<typeof SignedAttestation>;
export type AggregationBits = ValueOf<typeof AggregationBits>;
export type AggregatedAttestation = ValueOf<typeof AggregatedAttestation>;
export type SignedAggregatedAttestation = ValueOf<typeof SignedAggregatedAttestation>;
export type BlockBody = ValueOf<typeof BlockBody>;
export type Block = ValueOf<typeof Block>;
export type BlockHeader = ValueOf<typeof BlockHeader>;
export type SignedBlock = ValueOf<typeof SignedBlock>;
export type Validator = ValueOf<typeof Validator>;
export type Config = ValueOf<typeof Config>;
export type State = ValueOf<typeof State>;
export type Status = ValueOf<typeof Status>;
export type BlocksByRootRequest = ValueOf<typeof BlocksByRootRequest>;
export type BlocksByRangeRequest = ValueOf<typeof BlocksByRangeRequest>;

/** Every container by its protocol name, for generic decode/JSON tooling and tests. */
export const sszTypes = {
  Checkpoint,
  AttestationData,
  SignedAttestation,
  AggregatedAttestation,
  SignedAggregatedAttestation,
  BlockBody,
  Block,
  BlockHeader,
  SignedBlock,
  Validator,
  Config,
  State,
  Status,
  BlocksByRootRequest,
  BlocksByRangeRequest,
} as const;
export type SszTypeName = keyof typeof sszTypes;

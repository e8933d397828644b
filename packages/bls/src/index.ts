export {
  type AggregateJob,
  decodeAggregateJob,
  encodeAggregateJob,
  toAggregateJob,
  verifyAggregateJob,
} from "./aggregateJob.ts";
export type { BlsJob, BlsJobResult } from "./blsWorker.ts";
export { isBlsWorkerData, PACKED_KEY_LENGTH, packValidatorKeys, ValidatorKeyTable } from "./keyTable.ts";
export { MainThreadVerifier, type MainThreadVerifierOptions } from "./mainThreadVerifier.ts";
export {
  BlsVerifierPool,
  type BlsVerifierPoolOptions,
  DEFAULT_JOBS_PER_WORKER,
  DEFAULT_MAX_BUFFER_WAIT_MS,
  defaultMaxQueuedSets,
  defaultWorkerCount,
} from "./pool.ts";
export { signatureSet, verifierSignatureSet } from "./signatureSets.ts";
export * from "./stats.ts";
export * from "./types.ts";
export { type BatchOutcome, verifySetBatch } from "./verifyBatch.ts";
export { decodeJob, encodeJob, toVerifiableSet, type VerifiableSet } from "./wire.ts";

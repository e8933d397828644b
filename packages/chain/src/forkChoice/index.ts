export * from "./aggregatePool.ts";
export * from "./attestationSignatures.ts";
export * from "./attestationValidation.ts";
export * from "./blockTree.ts";
export * from "./lmdGhost.ts";
export * from "./store.ts";
export * from "./voteCoverage.ts";
export * from "./votes.ts";

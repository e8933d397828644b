export * from "./attest.ts";
export * from "./produceBlock.ts";
export * from "./proposer.ts";

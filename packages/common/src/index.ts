export * from "./blockedPorts.ts";
export * from "./genesisConfig.ts";
export * from "./logger.ts";
export * from "./runtimeFlags.ts";

// The Docker and network-namespace runtimes are not re-exported: devnetCommand.ts loads them only
// when asked (--docker, --netns).
export * from "./composeProject.ts";
export * from "./devnetCommand.ts";
export * from "./genesisCommand.ts";
export * from "./health.ts";
export * from "./launcher.ts";
export * from "./netnsPlan.ts";
export * from "./portProbe.ts";
export * from "./ports.ts";
export * from "./statusTable.ts";
export * from "./subnets.ts";
export * from "./summary.ts";
export * from "./topology.ts";

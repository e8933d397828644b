export * from "./bearerToken.ts";
export * from "./errors.ts";
export * from "./health.ts";
export * from "./sszJson.ts";
export * from "./validatorApi.ts";

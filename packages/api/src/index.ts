export * from "./bearerToken.ts";
export * from "./client/apiClient.ts";
export * from "./client/route.ts";
export * from "./client/routes.ts";
export * from "./errors.ts";
export * from "./health.ts";
export * from "./sszJson.ts";
export * from "./validatorApi.ts";

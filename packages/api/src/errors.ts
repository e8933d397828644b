// Beacon-API error bodies: {"code": N, "message": "..."}.
import type { FastifyInstance } from "fastify";

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.statusCode = statusCode;
  }
}

/**
 * Every error and unknown route answers {code, message}: ApiError with its status, Fastify's own
 * errors (bad JSON, body too large) with theirs, anything else a 500 that reveals nothing.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, _req, reply) => {
    const fastifyStatus = (err as { statusCode?: unknown }).statusCode;
    const status = err instanceof ApiError ? err.statusCode : typeof fastifyStatus === "number" ? fastifyStatus : 500;
    const code = status >= 400 && status < 600 ? status : 500;
    const message = code === 500 || !(err instanceof Error) ? "Internal server error" : err.message;
    void reply.code(code).send({ code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ code: 404, message: `Route ${req.method}:${req.url.split("?")[0]} not found` });
  });
}

/**
 * One error shape for every REST route: `{ error, field?, location? }`. Schema failures become 400 naming the field
 * (dotted: `config.gpuMemoryUtilization`), UserError from the engine 400 with its own field/location, a full queue
 * 503, anything else 500 without internals (logged on the server).
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { isUserError } from "../../sim/errors.ts";
import { QueueFullError } from "../runs/manager.ts";

export interface ApiError {
  error: string;
  field?: string;
  location?: string;
}

interface AjvLikeError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Field name of a validation error: instance path + the missing/extra property, dotted. */
export function validationField(e: AjvLikeError): string {
  const parts = (e.instancePath ?? "").split("/").filter(Boolean);
  const extra = e.params?.additionalProperty ?? e.params?.missingProperty;
  if (typeof extra === "string") parts.push(extra);
  return parts.join(".");
}

export function validationMessage(e: AjvLikeError, context: string | undefined): ApiError {
  const field = validationField(e);
  const where = field || context || "request";
  let msg: string;
  if (e.keyword === "additionalProperties") msg = `${where}: unknown field`;
  else if (e.keyword === "required") msg = `${where}: required`;
  else msg = `${where}: ${e.message ?? "invalid value"}`;
  return field ? { error: msg, field } : { error: msg };
}

export function installErrorHandler(app: FastifyInstance, log: (msg: string) => void): void {
  app.setErrorHandler((error: unknown, _req, reply) => {
    const err = error as FastifyError;
    if (err.validation && err.validation.length > 0) {
      return reply.code(400).send(validationMessage(err.validation[0] as AjvLikeError, err.validationContext));
    }
    if (isUserError(error)) {
      const body: ApiError = { error: error.message };
      if (error.field) body.field = error.field;
      if (error.location) body.location = error.location;
      return reply.code(400).send(body);
    }
    if (error instanceof QueueFullError) return reply.code(503).send({ error: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify's own client errors: body too large (413), bad JSON (400), unsupported media type (415).
      return reply.code(err.statusCode).send({ error: err.message });
    }
    log(`internal error: ${err.stack ?? err.message}`);
    return reply.code(500).send({ error: "internal server error" });
  });
}

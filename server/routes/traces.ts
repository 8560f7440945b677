/**
 * GET /api/traces (embedded + uploaded) and POST /api/traces (upload: the raw file as the body, any content type,
 * at most `uploadLimitBytes`; `?name=` the file name used in messages and for format detection, `?format=` to skip
 * detection). The upload is parsed strictly with the project's trace parsers, so the first bad line is a 400 whose
 * message and `location` give file:line; a good one is stored in memory under a generated id (never on disk).
 */
import type { FastifyInstance } from "fastify";
import { Type, type Static } from "@sinclair/typebox";
import { TRACE_FORMATS } from "../../sim/traces/formats.ts";
import type { TraceStore } from "../traces/store.ts";

const TraceInfoSchema = Type.Object({
  id: Type.String(),
  source: Type.Union([Type.Literal("embedded"), Type.Literal("upload")]),
  fileName: Type.String(),
  bytes: Type.Integer(),
  requests: Type.Optional(Type.Integer()),
  lastArrival: Type.Optional(Type.Number()),
});

const UploadQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    format: Type.Optional(Type.Union(TRACE_FORMATS.map((f) => Type.Literal(f)))),
  },
  { additionalProperties: false },
);

export function traceRoutes(traces: TraceStore, uploadLimitBytes: number) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get("/api/traces", { schema: { response: { 200: Type.Array(TraceInfoSchema) } } }, async () => traces.list());

    // Encapsulated: in here every body is the raw file text, whatever its content type.
    await app.register(async (upload) => {
      upload.removeAllContentTypeParsers();
      upload.addContentTypeParser("*", { parseAs: "string", bodyLimit: uploadLimitBytes }, (_req, body, done) =>
        done(null, body),
      );
      upload.post<{ Querystring: Static<typeof UploadQuery>; Body: string }>(
        "/api/traces",
        { bodyLimit: uploadLimitBytes, schema: { querystring: UploadQuery, response: { 201: TraceInfoSchema } } },
        async (req, reply) => {
          const text = typeof req.body === "string" ? req.body : "";
          if (text.trim() === "") return reply.code(400).send({ error: "body: empty upload; send the trace file as the request body", field: "body" });
          const info = traces.upload(text, req.query.name ?? "upload.csv", req.query.format);
          return reply.code(201).send(info);
        },
      );
    });
  };
}

/**
 * POST /api/runs, GET /api/runs, GET/DELETE /api/runs/:id, GET /api/runs/:id/export.
 *
 * `{"kind":"replay"}` alone is a complete request: every omitted config field takes vLLM's default and the trace
 * the embedded Azure conversation trace. The body's outer shape is a schema; `config` is checked against the kind's
 * own schema here (it depends on `kind`), so both give 400 naming the field.
 */
import type { FastifyInstance } from "fastify";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { KvBudgetSchema, RunFactsSchema, SpeedSchema } from "../protocol.ts";
import type { RunManager } from "../runs/manager.ts";
import type { KindRegistry } from "../runs/kinds/registry.ts";
import type { Exporter } from "../runs/export.ts";

const CreateRunBody = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 40 }),
    config: Type.Optional(Type.Object({}, { additionalProperties: true })),
    /** Initial speed (default 10× simulated time). */
    speed: Type.Optional(SpeedSchema),
    /** on-connect (default): start when the first stream connects; now: start at once; paused: wait for `play`. */
    start: Type.Optional(Type.Union([Type.Literal("on-connect"), Type.Literal("now"), Type.Literal("paused")])),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const RunBrief = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  state: Type.String(),
  speed: SpeedSchema,
  t: Type.Number(),
  createdAt: Type.String(),
  queuePosition: Type.Optional(Type.Integer()),
  message: Type.Optional(Type.String()),
});
/** GET /api/runs/:id: the brief plus what the run is and, once known, its outcome. */
const RunInfoSchema = Type.Object(
  {
    ...RunBrief.properties,
    config: Type.Unknown(),
    facts: RunFactsSchema,
    budget: Type.Union([KvBudgetSchema, Type.Null()]),
    summary: Type.Optional(Type.Object({}, { additionalProperties: true })),
    result: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
const ApiErrorSchema = Type.Object({ error: Type.String(), field: Type.Optional(Type.String()), location: Type.Optional(Type.String()) });

const ExportQuery = Type.Object(
  {
    format: Type.Union([Type.Literal("json"), Type.Literal("csv"), Type.Literal("perfetto"), Type.Literal("prometheus")]),
    /** CSV only: the per-request table (default) or the memory timeline. */
    table: Type.Optional(Type.Union([Type.Literal("requests"), Type.Literal("memory")])),
  },
  { additionalProperties: false },
);

export function runRoutes(manager: RunManager, kinds: KindRegistry, exporter: Exporter) {
  const checkers = new Map<string, TypeCheck<TSchema>>();
  const checkerFor = (kind: string): TypeCheck<TSchema> => {
    let c = checkers.get(kind);
    if (!c) {
      c = TypeCompiler.Compile(kinds.get(kind).configSchema);
      checkers.set(kind, c);
    }
    return c;
  };

  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Static<typeof CreateRunBody> }>(
      "/api/runs",
      { schema: { body: CreateRunBody, response: { 201: RunBrief } } },
      async (req, reply) => {
        const { kind, config = {}, speed, start } = req.body;
        const checker = checkerFor(kind);
        if (!checker.Check(config)) {
          const e = checker.Errors(config).First()!;
          const path = e.path.replace(/^\//, "").split("/").filter(Boolean);
          const extra = e.message.startsWith("Unexpected property");
          const required = e.message.startsWith("Expected required property");
          const field = ["config", ...path].join(".");
          const msg = extra ? "unknown field" : required ? "required" : e.message.toLowerCase();
          return reply.code(400).send({ error: `${field}: ${msg}`, field });
        }
        const run = await manager.create({ kind, config, speed, start });
        const info = run.info();
        return reply.code(201).header("location", `/api/runs/${run.id}`).send(info);
      },
    );

    app.get("/api/runs", { schema: { response: { 200: Type.Array(RunBrief) } } }, async () =>
      manager.list().map((r) => r.info()),
    );

    app.get<{ Params: Static<typeof IdParams> }>(
      "/api/runs/:id",
      { schema: { params: IdParams, response: { 200: RunInfoSchema, 404: ApiErrorSchema } } },
      async (req, reply) => {
      const run = manager.get(req.params.id);
        if (!run) return reply.code(404).send({ error: `no run ${req.params.id}`, field: "id" });
        return run.info();
      },
    );

    app.delete<{ Params: Static<typeof IdParams> }>(
      "/api/runs/:id",
      { schema: { params: IdParams, response: { 200: Type.Object({ id: Type.String(), state: Type.String() }), 404: ApiErrorSchema } } },
      async (req, reply) => {
        const run = await manager.remove(req.params.id);
        if (!run) return reply.code(404).send({ error: `no run ${req.params.id}`, field: "id" });
        return { id: run.id, state: run.state };
      },
    );

    app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ExportQuery> }>(
      "/api/runs/:id/export",
      { schema: { params: IdParams, querystring: ExportQuery } },
      async (req, reply) => {
        const run = manager.get(req.params.id);
        if (!run) return reply.code(404).send({ error: `no run ${req.params.id}`, field: "id" });
        const out = await exporter(run, req.query.format, req.query.table);
        return reply
          .header("content-type", out.contentType)
          .header("content-disposition", `attachment; filename="${run.id}.${out.extension}"`)
          .send(out.body);
      },
    );
  };
}


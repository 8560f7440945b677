/** GET /healthz (liveness plus run counts) and GET /metrics (Prometheus text, see metrics/registry.ts). */
import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { ServerMetrics } from "../metrics/registry.ts";
import type { RunManager } from "../runs/manager.ts";

export function healthRoutes(manager: RunManager, metrics: ServerMetrics) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/healthz",
      {
        schema: {
          response: { 200: Type.Object({ status: Type.Literal("ok"), runs: Type.Integer(), active: Type.Integer(), uptimeS: Type.Number() }) },
        },
      },
      async () => ({ status: "ok" as const, runs: manager.runs.size, active: manager.numActive, uptimeS: process.uptime() }),
    );
    app.get("/metrics", async (_req, reply) => {
      manager.updateStateMetrics();
      const text = await metrics.text();
      return reply.header("content-type", metrics.contentType).send(text);
    });
  };
}

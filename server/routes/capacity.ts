/** GET /api/capacity?model=…&gpu=…&gpuMemoryUtilization=…: the instant KV budget for the config form. */
import type { FastifyInstance } from "fastify";
import { computeKvBudget } from "../../sim/serving/budget.ts";
import { resolveServingConfig, type ServingConfigInput } from "../../sim/serving/config.ts";
import { KvBudgetSchema } from "../protocol.ts";
import { withConfigFields } from "../runs/kinds/replay.ts";
import { ServingConfigQuerySchema, type ServingConfigQuery } from "../runs/kinds/serving-config-schema.ts";

export async function capacityRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: ServingConfigQuery }>(
    "/api/capacity",
    { schema: { querystring: ServingConfigQuerySchema, response: { 200: KvBudgetSchema } } },
    async (req) => withConfigFields(() => computeKvBudget(resolveServingConfig(req.query as ServingConfigInput)), ""),
  );
}

/**
 * Run kind `sweep`: a grid of serving configurations over one trace (`sim/sweep/`), one point per step, so the
 * page can draw the grid filling in. Simulated "time" is the number of points done; each frame's `extra` carries the
 * PointResults it covers; the summary's `result` is the SweepResult (`vramscope sweep --json`'s shape) with the
 * recommendation and knees.
 */
import { Type, type Static } from "@sinclair/typebox";
import { UserError } from "../../../sim/errors.ts";
import { resolveGpu } from "../../../sim/hardware/registry.ts";
import { computeKvBudget } from "../../../sim/serving/budget.ts";
import { resolveServingConfig, type ServingConfigInput } from "../../../sim/serving/config.ts";
import { parsePrices } from "../../../sim/sweep/prices.ts";
import { parseVaryList, productSize } from "../../../sim/sweep/spec.ts";
import type { Slo, SweepSpec } from "../../../sim/sweep/types.ts";
import type { TraceRequest } from "../../../sim/traces/types.ts";
import { DEFAULT_TRACE, withConfigFields } from "./replay.ts";
import { ServingConfigFields } from "./serving-config-schema.ts";
import { modelFacts, type KindContext, type PreparedRun, type RunKind } from "./types.ts";

/** Points one live sweep may have (the CLI's `--workers`/`--shard` are for bigger grids). */
export const MAX_LIVE_POINTS = 2000;
export const DEFAULT_VARY = ["gpu-memory-utilization=0.5:0.9:0.1"];

export const SweepConfigSchema = Type.Object(
  {
    ...ServingConfigFields,
    trace: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    maxRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    /** `--vary` specs: NAME=START:END:STEP or NAME=a,b,c (default: gpu-memory-utilization 0.5…0.9). */
    vary: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 500 }), { minItems: 1, maxItems: 8 })),
    sloTtftP99: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 })),
    sloTpotP99: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 })),
    /** `--gpu-hour-price` entries: GPU=USD. */
    gpuHourPrice: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 100 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type SweepRunConfig = Static<typeof SweepConfigSchema>;

export interface SweepWorkerInput {
  spec: SweepSpec;
  requests: TraceRequest[];
}

export const sweepKind: RunKind = {
  name: "sweep",
  description: "A grid of serving configurations replayed over one trace: preemptions, latency and cost per point.",
  configSchema: SweepConfigSchema,
  simModule: new URL("./sweep-sim.ts", import.meta.url),
  exportable: false,
  prepare(raw, ctx: KindContext): PreparedRun {
    const { trace = DEFAULT_TRACE, maxRequests, vary: varyText = DEFAULT_VARY, sloTtftP99, sloTpotP99, gpuHourPrice = [], ...base } =
      raw as SweepRunConfig;
    const { spec, config } = withConfigFields(() => {
      const config = resolveServingConfig(base as ServingConfigInput);
      computeKvBudget(config);
      const vary = parseVaryList(varyText);
      const total = productSize(vary);
      if (total > MAX_LIVE_POINTS)
        throw new UserError(`--vary: ${total} points; a live sweep takes at most ${MAX_LIVE_POINTS} (use vramscope sweep for more)`, { field: "--vary" });
      const slo: Slo = {};
      if (sloTtftP99 !== undefined) slo.ttftP99 = sloTtftP99;
      if (sloTpotP99 !== undefined) slo.tpotP99 = sloTpotP99;
      const prices = parsePrices(gpuHourPrice, (g) => resolveGpu(g).name);
      const spec: SweepSpec = { base: base as Record<string, unknown>, vary, slo, prices, trace };
      return { spec, config };
    });
    let requests = ctx.traces.get(trace, "config.trace").requests;
    if (maxRequests !== undefined) requests = requests.slice(0, maxRequests);
    const input: SweepWorkerInput = { spec, requests };
    return {
      config: { ...raw, trace },
      facts: {
        ...modelFacts(config.model, config.gpu, config.tensorParallelSize),
        trace: { name: trace, requests: requests.length, lastArrival: requests.length ? requests[requests.length - 1].arrival : 0 },
      },
      budget: null,
      modelName: config.model.name,
      workerInput: input,
    };
  },
};

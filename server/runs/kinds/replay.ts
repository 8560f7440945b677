/**
 * Run kind `replay`: a trace replayed through the vLLM V1 serving engine (`sim/serving/`). With no config at all it
 * is the default run: the embedded Azure 2023 conversation trace on Llama-3.1-8B-Instruct / H100-SXM-80GB.
 *
 * The main-thread half resolves the config (vLLM's defaults, errors naming the field), computes the KV budget for
 * `hello`, and loads the trace; the worker half (`replay-sim.ts`) builds the engine.
 */
import { Type, type Static } from "@sinclair/typebox";
import { isUserError, UserError } from "../../../sim/errors.ts";
import { computeKvBudget } from "../../../sim/serving/budget.ts";
import { resolveServingConfig, type ServingConfigInput } from "../../../sim/serving/config.ts";
import type { ServingConfig } from "../../../sim/serving/types.ts";
import type { TraceRequest } from "../../../sim/traces/types.ts";
import { modelFacts, type KindContext, type PreparedRun, type RunKind } from "./types.ts";
import { ServingConfigFields } from "./serving-config-schema.ts";

export const DEFAULT_TRACE = "azure-2023-conv";

export const ReplayConfigSchema = Type.Object(
  {
    ...ServingConfigFields,
    /** Embedded trace name (GET /api/traces) or an upload id. */
    trace: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Replay only the first N requests. */
    maxRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    /** Arrivals divided by this (2 = twice the request rate). */
    rateScale: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 })),
  },
  { additionalProperties: false },
);
export type ReplayConfig = Static<typeof ReplayConfigSchema>;

/** What crosses into the worker (structured clone): plain data only. */
export interface ReplayWorkerInput {
  config: ServingConfig;
  requests: TraceRequest[];
}

/** The engine names CLI flags (`--gpu-memory-utilization`); over REST the field is `config.gpuMemoryUtilization`. */
export function withConfigFields<T>(fn: () => T, prefix = "config."): T {
  try {
    return fn();
  } catch (e) {
    if (isUserError(e) && e.field?.startsWith("--")) {
      const camel = e.field.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      throw new UserError(`${prefix}${camel}: ${e.message}`, { field: `${prefix}${camel}`, location: e.location });
    }
    throw e;
  }
}

export const replayKind: RunKind = {
  name: "replay",
  description: "Replay a request trace through the simulated vLLM V1 engine (paged KV cache, chunked prefill, prefix caching, preemption).",
  configSchema: ReplayConfigSchema,
  simModule: new URL("./replay-sim.ts", import.meta.url),
  prepare(raw: Record<string, unknown>, ctx: KindContext): PreparedRun {
    const { trace = DEFAULT_TRACE, maxRequests, rateScale, ...serving } = raw as ReplayConfig;
    const { config, budget } = withConfigFields(() => {
      const config = resolveServingConfig(serving as ServingConfigInput);
      return { config, budget: computeKvBudget(config) };
    });
    const parsed = ctx.traces.get(trace, "config.trace");
    let requests = parsed.requests;
    if (maxRequests !== undefined) requests = requests.slice(0, maxRequests);
    if (rateScale !== undefined && rateScale !== 1) requests = requests.map((r) => ({ ...r, arrival: r.arrival / rateScale }));
    if (requests.length === 0) throw new UserError(`config.trace: trace "${trace}" has no requests`, { field: "config.trace" });
    const input: ReplayWorkerInput = { config, requests };
    return {
      config: { ...config, trace, maxRequests, rateScale },
      facts: {
        ...modelFacts(config.model, config.gpu, config.tensorParallelSize),
        trace: { name: trace, requests: requests.length, lastArrival: requests[requests.length - 1].arrival },
      },
      budget,
      modelName: config.model.name,
      workerInput: input,
      cacheInfo: {
        blockSize: config.blockSize,
        numGpuBlocks: budget.numGpuBlocks,
        gpuMemoryUtilization: config.gpuMemoryUtilization,
        enablePrefixCaching: config.enablePrefixCaching,
        cacheDtype: config.kvCacheDtype,
      },
    };
  },
};

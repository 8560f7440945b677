/**
 * The serving config as the REST API takes it (POST /api/runs `config`, GET /api/capacity query): the
 * ServingConfig fields with vLLM's names in camelCase, every one optional (resolveServingConfig fills vLLM's
 * defaults), model and GPU by preset name. The schema checks types and coarse ranges so a wrong type is a 400
 * naming the field; the engine's resolver checks the rest (and names the field too).
 */
import { Type, type Static } from "@sinclair/typebox";

export const ServingConfigFields = {
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  gpu: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  gpuTotalMemoryBytes: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e15 })),
  tensorParallelSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  dtype: Type.Optional(Type.String({ maxLength: 20 })),
  quantization: Type.Optional(
    Type.Union(["none", "fp8", "int8", "int4-awq", "gptq", "gptq-int8", "mxfp4"].map((q) => Type.Literal(q))),
  ),
  kvCacheDtype: Type.Optional(
    Type.Union(["auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16", "float16", "float32"].map((d) => Type.Literal(d))),
  ),
  gpuMemoryUtilization: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  maxModelLen: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  blockSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  maxNumSeqs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  maxNumBatchedTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  enablePrefixCaching: Type.Optional(Type.Boolean()),
  enableChunkedPrefill: Type.Optional(Type.Boolean()),
  longPrefillTokenThreshold: Type.Optional(Type.Integer({ minimum: 0 })),
  schedulingPolicy: Type.Optional(Type.Union([Type.Literal("fcfs"), Type.Literal("priority")])),
  freeQueueOrder: Type.Optional(Type.Union([Type.Literal("append"), Type.Literal("split")])),
  kvCacheMemoryBytes: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e15 })),
  numGpuBlocksOverride: Type.Optional(Type.Integer({ minimum: 2, maximum: 100_000_000 })),
  stepTimeS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
};

export const ServingConfigQuerySchema = Type.Object(ServingConfigFields, { additionalProperties: false });
export type ServingConfigQuery = Static<typeof ServingConfigQuerySchema>;

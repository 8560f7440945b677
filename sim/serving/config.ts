import { UserError } from "../errors.ts";
import { resolveGpu, withTotalMemory } from "../hardware/registry.ts";
import type { GpuSpec } from "../hardware/types.ts";
import { validateTensorParallel } from "../model/kv.ts";
import { servingQuantization } from "../model/quant-config.ts";
import { resolveModel } from "../model/registry.ts";
import type { KvCacheDtype, ModelSpec, Quantization, WeightDtype } from "../model/types.ts";
import { GiB } from "../units.ts";
import type { ServingConfig } from "./types.ts";

/** A serving config as users give it: names for model and GPU, every other field optional. */
export type ServingConfigInput = Partial<Omit<ServingConfig, "model" | "gpu">> & {
  model?: string | ModelSpec;
  gpu?: string | GpuSpec;
};

export const DEFAULT_MODEL = "meta-llama/Llama-3.1-8B-Instruct";
export const DEFAULT_GPU = "H100-SXM-80GB";

const WEIGHT_DTYPES: readonly WeightDtype[] = ["float32", "bfloat16", "float16", "fp8", "int8", "int4"];
const KV_DTYPES: readonly KvCacheDtype[] = ["auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16", "float16", "float32"];
const DTYPE_ALIASES: Record<string, WeightDtype> = {
  auto: "bfloat16", half: "float16", fp16: "float16", bf16: "bfloat16", float: "float32", fp32: "float32",
};

/**
 * vLLM's `vllm serve` defaults for the token budget and batch size (`EngineArgs.get_batch_defaults`, ≈v0.9–0.11):
 * GPUs with ≥ 70 GiB that are not A100s get 8192 tokens / 1024 sequences; others 2048 / 256.
 */
export function defaultBatchLimits(gpu: GpuSpec): { maxNumBatchedTokens: number; maxNumSeqs: number } {
  const big = gpu.memoryBytes >= 70 * GiB && !/a100/i.test(gpu.name);
  return big ? { maxNumBatchedTokens: 8192, maxNumSeqs: 1024 } : { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
}

function modelDefaultDtype(model: ModelSpec): WeightDtype {
  const d = model.torchDtype.toLowerCase();
  if (d === "float32") return "bfloat16"; // vLLM serves fp32 checkpoints in bf16 (`--dtype auto`)
  return d === "float16" ? "float16" : "bfloat16";
}

function positiveInt(v: number, flag: string, min = 1): number {
  if (!Number.isInteger(v) || v < min)
    throw new UserError(`${flag} must be an integer ≥ ${min}, got ${v}`, { field: flag });
  return v;
}

/** Fills defaults (vLLM's) and validates every field, naming the flag in errors. */
export function resolveServingConfig(input: ServingConfigInput = {}): ServingConfig {
  const model = resolveModel(input.model ?? DEFAULT_MODEL);
  let gpu = resolveGpu(input.gpu ?? DEFAULT_GPU);
  if (input.gpuTotalMemoryBytes !== undefined) {
    if (!(input.gpuTotalMemoryBytes > 0))
      throw new UserError(`--gpu-total-memory must be positive`, { field: "--gpu-total-memory" });
    gpu = withTotalMemory(gpu, input.gpuTotalMemoryBytes);
  }
  const limits = defaultBatchLimits(gpu);
  const tp = positiveInt(input.tensorParallelSize ?? 1, "--tensor-parallel-size");
  validateTensorParallel(model, tp);
  let dtype = input.dtype ?? modelDefaultDtype(model);
  dtype = DTYPE_ALIASES[dtype as string] ?? dtype;
  if (!WEIGHT_DTYPES.includes(dtype))
    throw new UserError(`--dtype: unknown dtype "${dtype}" (use ${WEIGHT_DTYPES.join(", ")})`, { field: "--dtype" });
  const kvCacheDtype = input.kvCacheDtype ?? "auto";
  if (!KV_DTYPES.includes(kvCacheDtype))
    throw new UserError(`--kv-cache-dtype: unknown dtype "${kvCacheDtype}" (use ${KV_DTYPES.join(", ")})`, {
      field: "--kv-cache-dtype",
    });
  const util = input.gpuMemoryUtilization ?? 0.9;
  if (!(util > 0 && util <= 1))
    throw new UserError(`--gpu-memory-utilization must be in (0, 1], got ${util}`, { field: "--gpu-memory-utilization" });
  const maxModelLen = positiveInt(input.maxModelLen ?? model.maxPositionEmbeddings, "--max-model-len");
  if (maxModelLen > model.maxPositionEmbeddings)
    throw new UserError(
      `--max-model-len ${maxModelLen} is greater than the model's max_position_embeddings (${model.maxPositionEmbeddings}); vLLM refuses this unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 (outputs may be wrong)`,
      { field: "--max-model-len" },
    );
  const blockSize = positiveInt(input.blockSize ?? 16, "--block-size");
  if (blockSize > 256) throw new UserError(`--block-size must be at most 256, got ${blockSize}`, { field: "--block-size" });
  const enableChunkedPrefill = input.enableChunkedPrefill ?? true;
  const maxNumBatchedTokens = positiveInt(
    input.maxNumBatchedTokens ?? (enableChunkedPrefill ? limits.maxNumBatchedTokens : Math.max(maxModelLen, limits.maxNumBatchedTokens)),
    "--max-num-batched-tokens",
  );
  if (!enableChunkedPrefill && maxNumBatchedTokens < maxModelLen)
    throw new UserError(
      `--max-num-batched-tokens (${maxNumBatchedTokens}) is smaller than --max-model-len (${maxModelLen}) with chunked prefill disabled; vLLM refuses this (it could never schedule a full-length prompt)`,
      { field: "--max-num-batched-tokens" },
    );
  const maxNumSeqs = positiveInt(input.maxNumSeqs ?? limits.maxNumSeqs, "--max-num-seqs");
  // Not given → the checkpoint's own (gpt-oss: mxfp4); a different explicit value is vLLM's mismatch error.
  const quantization: Quantization = servingQuantization(model, input.quantization);
  const schedulingPolicy = input.schedulingPolicy ?? "fcfs";
  if (schedulingPolicy !== "fcfs" && schedulingPolicy !== "priority")
    throw new UserError(`--scheduling-policy must be fcfs or priority, got "${schedulingPolicy}"`, {
      field: "--scheduling-policy",
    });
  const freeQueueOrder = input.freeQueueOrder ?? "append";
  if (freeQueueOrder !== "append" && freeQueueOrder !== "split")
    throw new UserError(`--free-queue-order must be append or split`, { field: "--free-queue-order" });
  if (input.kvCacheMemoryBytes !== undefined && !(input.kvCacheMemoryBytes > 0))
    throw new UserError(`--kv-cache-memory must be positive`, { field: "--kv-cache-memory" });
  if (input.numGpuBlocksOverride !== undefined) positiveInt(input.numGpuBlocksOverride, "--num-gpu-blocks-override", 2);
  if (input.stepTimeS !== undefined && !(input.stepTimeS > 0))
    throw new UserError(`--step-time must be positive`, { field: "--step-time" });
  const longPrefillTokenThreshold = input.longPrefillTokenThreshold ?? 0;
  positiveInt(longPrefillTokenThreshold, "--long-prefill-token-threshold", 0);
  return {
    model,
    gpu,
    gpuTotalMemoryBytes: input.gpuTotalMemoryBytes,
    tensorParallelSize: tp,
    dtype,
    quantization,
    kvCacheDtype,
    gpuMemoryUtilization: util,
    maxModelLen,
    blockSize,
    maxNumSeqs,
    maxNumBatchedTokens,
    enablePrefixCaching: input.enablePrefixCaching ?? true,
    enableChunkedPrefill,
    longPrefillTokenThreshold,
    schedulingPolicy,
    freeQueueOrder,
    kvCacheMemoryBytes: input.kvCacheMemoryBytes,
    numGpuBlocksOverride: input.numGpuBlocksOverride,
    stepTimeS: input.stepTimeS,
    costModel: input.costModel,
    seed: input.seed ?? 0,
  };
}

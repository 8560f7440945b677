import { UserError } from "../errors.ts";
import { dtypeBytes } from "./dtype.ts";
import type { KvCacheDtype, KvLayout, ModelSpec, WeightDtype } from "./types.ts";

/**
 * Checks that `tp` ranks can shard the attention, as vLLM requires at startup: the query heads must divide evenly
 * (ModelConfig.verify_with_parallel_config) and the KV heads must either divide evenly or be replicated a whole
 * number of times (QKVParallelLinear: TP a multiple of num_kv_heads). MLA has one latent "head", never split.
 */
export function validateTensorParallel(spec: ModelSpec, tp: number): void {
  if (!Number.isInteger(tp) || tp < 1)
    throw new UserError(`--tensor-parallel-size must be a positive integer, got ${tp}`, { field: "--tensor-parallel-size" });
  if (spec.numAttentionHeads % tp !== 0)
    throw new UserError(
      `--tensor-parallel-size ${tp}: the number of attention heads (${spec.numAttentionHeads}) of ${spec.name} must be divisible by it`,
      { field: "--tensor-parallel-size" },
    );
  const kv = spec.numKvHeads;
  if (!spec.mla && kv % tp !== 0 && tp % kv !== 0)
    throw new UserError(
      `--tensor-parallel-size ${tp}: ${spec.name} has ${kv} KV heads; the tensor-parallel size must divide them or be a multiple of them`,
      { field: "--tensor-parallel-size" },
    );
}

/**
 * Bytes per element of the KV cache: `fp8*` → 1; "auto" → the model dtype (bf16/fp16 2, fp32 4). With a quantized
 * weight dtype (fp8/int8/int4) "auto" still means the 16-bit activation dtype, as vLLM keeps activations in bf16/fp16.
 */
export function kvDtypeBytes(kvCacheDtype: KvCacheDtype, modelDtype: WeightDtype): number {
  if (kvCacheDtype.startsWith("fp8")) return 1;
  if (kvCacheDtype !== "auto") return dtypeBytes(kvCacheDtype);
  return modelDtype === "float32" ? 4 : 2;
}

/**
 * What one token costs in KV cache on one TP rank, per vLLM's KVCacheSpec page sizes (v1/kv_cache_interface.py):
 * - MHA/GQA/MQA (AttentionSpec): K and V, `2 × kv_heads_per_rank × head_size × dtype` per layer, where
 *   kv_heads_per_rank = max(1, num_kv_heads / TP) (ModelConfig.get_num_kv_heads: replicated when TP > kv heads);
 * - MLA (MLAAttentionSpec): one latent of `kv_lora_rank + qk_rope_head_dim` elements per layer, no factor 2, and not
 *   split by TP (every rank holds the whole latent).
 *
 * Sliding-window layers are counted and their window reported, but `bytesPerToken` sums every attention layer as
 * if it were full attention: the simulator's block pool treats all attention layers alike unless the serving engine
 * models vLLM's hybrid allocator. `slidingWindowMaxTokensPerRequest` gives what a sliding layer needs at most.
 */
export function kvLayout(
  spec: ModelSpec,
  opts: { kvCacheDtype: KvCacheDtype; modelDtype: WeightDtype; tensorParallelSize: number },
): KvLayout {
  const tp = opts.tensorParallelSize;
  validateTensorParallel(spec, tp);
  const bytes = kvDtypeBytes(opts.kvCacheDtype, opts.modelDtype);
  let kvHeadsPerRank: number;
  let headSize: number;
  let perLayer: number;
  if (spec.mla) {
    kvHeadsPerRank = 1;
    headSize = spec.mla.kvLoraRank + spec.mla.qkRopeHeadDim;
    perLayer = headSize * bytes;
  } else {
    kvHeadsPerRank = Math.max(1, spec.numKvHeads / tp);
    headSize = spec.headDim;
    perLayer = 2 * kvHeadsPerRank * headSize * bytes;
  }
  const numSliding = countSlidingLayers(spec);
  const layout: KvLayout = {
    bytesPerTokenPerLayer: perLayer,
    numAttentionLayers: spec.numLayers,
    numFullAttentionLayers: spec.numLayers - numSliding,
    numSlidingLayers: numSliding,
    kvHeadsPerRank,
    headSize,
    dtypeBytes: bytes,
    bytesPerToken: perLayer * spec.numLayers,
    naiveMhaBytesPerToken: naiveMhaBytesPerToken(spec, bytes),
    isMla: spec.mla !== undefined,
  };
  if (numSliding > 0) layout.slidingWindow = spec.slidingWindow;
  return layout;
}

/** The article's formula, 2 · layers · hidden · dtype bytes: right only for MHA with head_dim = hidden / heads, TP 1. */
export function naiveMhaBytesPerToken(spec: ModelSpec, dtypeBytesPerElement: number): number {
  return 2 * spec.numLayers * spec.hiddenSize * dtypeBytesPerElement;
}

/** Layers using a sliding window: those marked in layerTypes, or all of them when only slidingWindow is set (Mistral). */
export function countSlidingLayers(spec: ModelSpec): number {
  if (spec.slidingWindow === undefined) return 0;
  if (!spec.layerTypes) return spec.numLayers;
  return spec.layerTypes.filter((t) => t === "sliding_attention").length;
}

/** KV bytes per block (one layer, one rank): vLLM's `page_size_bytes` for `blockSize` tokens. */
export function pageSizeBytes(layout: KvLayout, blockSize: number): number {
  return layout.bytesPerTokenPerLayer * blockSize;
}

/**
 * Tokens of KV one request can hold at most in a sliding-window layer, as vLLM's
 * `SlidingWindowSpec.max_memory_usage_bytes` sizes it: the window minus one plus a whole step's new tokens
 * (capped at max_model_len when given), rounded up to blocks, plus one block because the window may straddle a block
 * boundary. Returned in tokens (blocks × blockSize); multiply by bytesPerTokenPerLayer for bytes.
 */
export function slidingWindowMaxTokensPerRequest(
  window: number,
  maxNumBatchedTokens: number,
  blockSize: number,
  maxModelLen = Infinity,
): number {
  const tokens = Math.min(window - 1 + maxNumBatchedTokens, maxModelLen);
  return (Math.ceil(tokens / blockSize) + 1) * blockSize;
}

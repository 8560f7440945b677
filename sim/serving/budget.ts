import { UserError } from "../errors.ts";
import { kvLayout, slidingWindowMaxTokensPerRequest } from "../model/kv.ts";
import { weightBytes } from "../model/weights.ts";
import { formatGiB, GiB } from "../units.ts";
import { activationPeakBytes, CUDA_GRAPH_BYTES, nonTorchBytes } from "./activation.ts";
import type { KvBudget, ServingConfig } from "./types.ts";

const fmtInt = (n: number) => n.toLocaleString("en-US");

/**
 * vLLM's startup arithmetic, per GPU (per TP rank) — `Worker.determine_available_memory` then
 * `get_kv_cache_config` / `get_num_blocks` (`vllm/v1/core/kv_cache_utils.py`):
 *
 *   requested      = total × gpu_memory_utilization
 *   kv bytes       = requested − weights − activation peak − non-torch      (or --kv-cache-memory)
 *   num_gpu_blocks = floor(kv bytes / page bytes / layers per group)        (or --num-gpu-blocks-override)
 *   "GPU KV cache size: num_gpu_blocks // groups × block_size tokens"
 *   "Maximum concurrency for L tokens per request: num_gpu_blocks / blocks one L-token request needs"
 *
 * Throws UserError with vLLM's meaning when there is no room at all, or not for one max_model_len request.
 */
export function computeKvBudget(config: ServingConfig): KvBudget {
  const tp = config.tensorParallelSize;
  const total = config.gpu.memoryBytes;
  const requested = total * config.gpuMemoryUtilization;
  const weights = weightBytes(config.model, {
    dtype: config.dtype,
    quantization: config.quantization,
    tensorParallelSize: tp,
  }).perRankBytes;
  const activation = activationPeakBytes(config.model, {
    maxNumBatchedTokens: config.maxNumBatchedTokens,
    maxNumSeqs: config.maxNumSeqs,
    tensorParallelSize: tp,
  });
  const nonTorch = nonTorchBytes(tp);
  const kvBytes = config.kvCacheMemoryBytes ?? requested - weights - activation - nonTorch;
  const layout = kvLayout(config.model, {
    kvCacheDtype: config.kvCacheDtype,
    modelDtype: config.dtype,
    tensorParallelSize: tp,
  });
  const bs = config.blockSize;
  const page = layout.bytesPerTokenPerLayer * bs;
  const notes: string[] = [];
  const logLines: string[] = [];

  const breakdown = () =>
    `total ${formatGiB(total)} × ${config.gpuMemoryUtilization} = ${formatGiB(requested)}; weights ${formatGiB(weights)}, activation peak ${formatGiB(activation)}, non-torch ${formatGiB(nonTorch)}`;
  if (kvBytes <= 0)
    throw new UserError(
      `No available memory for the cache blocks (${breakdown()} leaves ${formatGiB(kvBytes)}). Try increasing --gpu-memory-utilization, --tensor-parallel-size or a smaller --max-num-batched-tokens.`,
      { field: "--gpu-memory-utilization" },
    );

  // Hybrid models (sliding + full layers with one page size) share one pool across KV-cache groups of
  // `groupSize` layers each (vLLM `_get_kv_cache_config_uniform_page_size`).
  const nFull = layout.numFullAttentionLayers;
  const nSliding = layout.numSlidingLayers;
  const hybrid = nFull > 0 && nSliding > 0;
  const groupSize = hybrid ? Math.min(nFull, nSliding) : layout.numAttentionLayers;
  const groups = hybrid ? Math.ceil(nFull / groupSize) + Math.ceil(nSliding / groupSize) : 1;
  if (hybrid)
    notes.push(
      `hybrid KV cache: ${nSliding} sliding-window (${layout.slidingWindow} tokens) and ${nFull} full-attention layers in ${groups} KV-cache groups of ${groupSize} layers sharing one pool of blocks; each group has its own block table per request, and the sliding groups free the blocks that fall outside the window (vLLM's HybridKVCacheCoordinator)`,
    );
  else if (nSliding > 0)
    notes.push(
      `all ${nSliding} layers use a ${layout.slidingWindow}-token sliding window: blocks wholly outside the window are freed as a request advances (vLLM's SlidingWindowManager)`,
    );

  const computedBlocks = Math.max(0, Math.floor(kvBytes / page / groupSize));
  let numGpuBlocks = computedBlocks;
  if (config.numGpuBlocksOverride !== undefined) {
    numGpuBlocks = config.numGpuBlocksOverride;
    logLines.push(`Overriding num_gpu_blocks=${computedBlocks} with num_gpu_blocks_override=${numGpuBlocks}`);
  }

  // Blocks one max_model_len request needs, summed over groups (vLLM `get_max_concurrency_for_kv_cache_config`).
  const L = config.maxModelLen;
  const fullBlocks = Math.ceil(L / bs);
  const slidingBlocks =
    nSliding > 0 && layout.slidingWindow !== undefined
      ? slidingWindowMaxTokensPerRequest(layout.slidingWindow, config.maxNumBatchedTokens, bs, L) / bs
      : 0;
  const blocksPerRequest = hybrid
    ? Math.ceil(nFull / groupSize) * fullBlocks + Math.ceil(nSliding / groupSize) * slidingBlocks
    : nSliding > 0
      ? slidingBlocks
      : fullBlocks;
  const neededBytes = blocksPerRequest * page * groupSize;
  if (config.numGpuBlocksOverride === undefined && neededBytes > kvBytes) {
    const maxLen = estimateMaxModelLen(kvBytes, page * groupSize, bs, groups);
    throw new UserError(
      `To serve at least one request with the model's max seq len (${L}), ${formatGiB(neededBytes)} KV cache is needed, which is larger than the available KV cache memory (${formatGiB(kvBytes)}). Based on the available memory, the estimated maximum model length is ${maxLen}. Try increasing --gpu-memory-utilization or decreasing --max-model-len.`,
      { field: "--max-model-len" },
    );
  }
  // The engine models the groups (kv-cache-coordinator.ts), so it gets the whole shared pool. One request holds at
  // most ⌈L / bs⌉ blocks in a full group and min(that, the window plus one step's tokens) in a sliding group.
  const engineNumBlocks = numGpuBlocks;
  const nSlidingGroups = nSliding > 0 ? (hybrid ? Math.ceil(nSliding / groupSize) : 1) : 0;
  const blocksHeldAtMost =
    (groups - nSlidingGroups) * fullBlocks + nSlidingGroups * Math.min(fullBlocks, slidingBlocks);
  if (engineNumBlocks - 1 < blocksHeldAtMost)
    throw new UserError(
      `${numGpuBlocks} KV blocks cannot hold one ${L}-token request (${blocksHeldAtMost} blocks of ${bs} tokens${groups > 1 ? ` over ${groups} KV-cache groups` : ""} plus the null block); raise --num-gpu-blocks-override or lower --max-model-len`,
      { field: "--num-gpu-blocks-override" },
    );

  const kvCacheTokens = Math.floor(numGpuBlocks / groups) * bs;
  const maxConcurrency = numGpuBlocks / blocksPerRequest;
  logLines.unshift(`Available KV cache memory: ${(kvBytes / GiB).toFixed(2)} GiB`);
  logLines.push(`GPU KV cache size: ${fmtInt(kvCacheTokens)} tokens`);
  logLines.push(`Maximum concurrency for ${fmtInt(L)} tokens per request: ${maxConcurrency.toFixed(2)}x`);

  const wholeModelPerToken = kvLayout(config.model, {
    kvCacheDtype: config.kvCacheDtype,
    modelDtype: config.dtype,
    tensorParallelSize: 1,
  }).bytesPerToken;
  if (layout.naiveMhaBytesPerToken !== wholeModelPerToken)
    notes.push(
      `KV per token is ${fmtInt(wholeModelPerToken)} B for the whole model, ${fmtInt(layout.bytesPerToken)} B per GPU (${layout.kvHeadsPerRank} KV heads × ${layout.headSize} × ${layout.dtypeBytes} B × ${layout.isMla ? 1 : 2} × ${layout.numAttentionLayers} layers); the hidden-size formula 2·layers·hidden·bytes gives ${fmtInt(layout.naiveMhaBytesPerToken)} B (only right for multi-head attention)`,
    );
  if (!layout.isMla && config.model.numKvHeads < tp)
    notes.push(`TP ${tp} > ${config.model.numKvHeads} KV heads: each rank keeps one replicated KV head`);
  if (layout.isMla && tp > 1) notes.push(`MLA latent cache is replicated on every TP rank, not split`);
  const headroom = total - requested;
  if (CUDA_GRAPH_BYTES > headroom)
    notes.push(
      `CUDA graphs (~${formatGiB(CUDA_GRAPH_BYTES)}) are captured after the KV cache is sized and must fit in the ${formatGiB(headroom)} left by --gpu-memory-utilization ${config.gpuMemoryUtilization}: expect an OOM at startup or use --enforce-eager`,
    );

  return {
    totalBytes: total,
    requestedBytes: requested,
    weightsBytes: weights,
    activationPeakBytes: activation,
    nonTorchBytes: nonTorch,
    kvCacheBytes: kvBytes,
    kvBytesPerToken: layout.bytesPerToken,
    pageBytesPerLayer: page,
    blockBytes: page * groupSize,
    numGpuBlocks,
    kvCacheTokens,
    maxConcurrency,
    maxModelLen: L,
    blockSize: bs,
    kvCacheGroups: groups,
    engineNumBlocks,
    cudaGraphBytes: CUDA_GRAPH_BYTES,
    logLines,
    notes,
  };
}

/** vLLM `estimate_max_model_len`: the largest length whose blocks fit (binary search over whole blocks). */
function estimateMaxModelLen(kvBytes: number, bytesPerBlock: number, blockSize: number, groups: number): number {
  return Math.max(0, Math.floor(kvBytes / bytesPerBlock / groups)) * blockSize;
}

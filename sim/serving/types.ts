import type { GpuSpec } from "../hardware/types.ts";
import type { KvCacheDtype, ModelSpec, Quantization, WeightDtype } from "../model/types.ts";

export type SchedulingPolicy = "fcfs" | "priority";
/**
 * Where freed blocks go in the free queue. "append": every freed block to the tail (vLLM 2025, default);
 * "split": blocks without a hash to the head, cached ones to the tail (vLLM late-2025 refinement).
 */
export type FreeQueueOrder = "append" | "split";

/** Everything that shapes a serving run, with vLLM's names (camelCase of the CLI flags). */
export interface ServingConfig {
  model: ModelSpec;
  gpu: GpuSpec;
  /** Overrides gpu.memoryBytes (`--gpu-total-memory`). */
  gpuTotalMemoryBytes?: number;
  tensorParallelSize: number;
  dtype: WeightDtype;
  quantization: Quantization;
  kvCacheDtype: KvCacheDtype;
  gpuMemoryUtilization: number;
  maxModelLen: number;
  blockSize: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  enablePrefixCaching: boolean;
  enableChunkedPrefill: boolean;
  /** 0 = off. */
  longPrefillTokenThreshold: number;
  schedulingPolicy: SchedulingPolicy;
  freeQueueOrder: FreeQueueOrder;
  /** `--kv-cache-memory`: KV bytes per GPU, bypassing the profile arithmetic. */
  kvCacheMemoryBytes?: number;
  /** `--num-gpu-blocks-override`. */
  numGpuBlocksOverride?: number;
  /** `--step-time`: constant seconds per engine step instead of the cost model. */
  stepTimeS?: number;
  /** Overrides of the cost model's constants (see cost-model.ts). */
  costModel?: Partial<CostModelParams>;
  seed: number;
}

export interface CostModelParams {
  /** Fraction of peak HBM bandwidth reached when streaming weights and KV. */
  bandwidthEfficiency: number;
  /**
   * Fraction of peak FLOPs a step of T tokens reaches: eff(T) = min + (max − min) / (1 + (T0 / T)^k), rising from
   * `computeEfficiencyMin` for small batches to `computeEfficiencyMax` for long prefills (see cost-model.ts).
   */
  computeEfficiencyMin: number;
  computeEfficiencyMax: number;
  /** T0 of the efficiency curve, tokens. */
  computeEfficiencyMidTokens: number;
  /** k of the efficiency curve. */
  computeEfficiencyExponent: number;
  /** fp8/int8 GEMMs reach a smaller fraction of their (doubled) peak than bf16 ones. */
  lowPrecisionComputeScale: number;
  /** Fixed per-step overhead (scheduling, launches, sampling), seconds. */
  stepOverheadS: number;
  /** Latency of one all-reduce under TP (two per layer per step), seconds. */
  allReduceLatencyS: number;
  /** Interconnect efficiency for TP all-reduce traffic. */
  allReduceEfficiency: number;
}

/** The startup arithmetic, every term per GPU (per TP rank), bytes. */
export interface KvBudget {
  totalBytes: number;
  requestedBytes: number;
  weightsBytes: number;
  activationPeakBytes: number;
  nonTorchBytes: number;
  kvCacheBytes: number;
  /** KV bytes of one token across all attention layers on one rank. */
  kvBytesPerToken: number;
  /** Page bytes per layer (one block of one layer). */
  pageBytesPerLayer: number;
  /** Bytes of one vLLM block over the layers of its group (= pageBytesPerLayer × layers per group). */
  blockBytes: number;
  numGpuBlocks: number;
  /** vLLM's "GPU KV cache size: N tokens" (= numGpuBlocks × blockSize; counts the null block). */
  kvCacheTokens: number;
  /** vLLM's "Maximum concurrency for L tokens per request: X". */
  maxConcurrency: number;
  maxModelLen: number;
  blockSize: number;
  /** KV-cache groups sharing the pool (vLLM hybrid allocator: 2 for Gemma-2/gpt-oss sliding+full, else 1). */
  kvCacheGroups: number;
  /**
   * Blocks the engine simulates: all numGpuBlocks (the null block included). The KV-cache groups share them, each
   * with its own block table per request (sim/serving/kv-cache-coordinator.ts), as vLLM's hybrid allocator does.
   */
  engineNumBlocks: number;
  /** CUDA-graph memory (estimate) that must fit in the (1 − util) headroom, as 2025 vLLM captures graphs after sizing KV. */
  cudaGraphBytes: number;
  /** The human-readable vLLM log lines this budget corresponds to. */
  logLines: string[];
  /** Notes (e.g. naive MHA figure vs GQA figure, replicated KV heads). */
  notes: string[];
}

/** Memory on one GPU at one instant, bytes. kvUsed + kvCachedFree + kvFree = all KV blocks' bytes. */
export interface MemorySnapshot {
  t: number;
  weightsBytes: number;
  activationBytes: number;
  nonTorchBytes: number;
  kvUsedBytes: number;
  kvCachedFreeBytes: number;
  kvFreeBytes: number;
  numUsedBlocks: number;
  numCachedFreeBlocks: number;
  numFreeBlocks: number;
  /** vLLM's kv_cache_usage_perc: referenced blocks / usable blocks (0..1). */
  kvUsage: number;
  numRunning: number;
  numWaiting: number;
}

/**
 * The engine's event stream: what the server streams and the client draws. Times are simulated seconds.
 * Block-level events (allocate/touch/free/evict) are emitted only when the subscriber asks for them.
 *
 * KV-cache groups (sliding-window and hybrid models, kv-cache-coordinator.ts): a request's block events list its
 * blocks of every group (group by group, each physical block once, never the null block 0). `blocks_cached` is sent
 * once per group with newly full blocks; its `firstBlockIndex` is the position of the first block in that group's
 * table, which is the hash-chain position in every group (all groups index the same token blocks). Blocks a sliding
 * group drops outside its window are a `blocks_freed` for the still-running request, at the start of the step that
 * drops them (after any preemption frees, before evictions). With more than one group, `blocks_allocated` and
 * `blocks_touched` also carry `groupBlocks`, each group's count of the listed blocks, so a block's position in its
 * own group's table is known before it is cached.
 */
export type EngineEvent =
  | { type: "arrival"; t: number; reqId: number; promptTokens: number; outputTokens: number }
  | { type: "rejected"; t: number; reqId: number; reason: string }
  | {
      type: "step";
      t: number;
      /** Step end time. */
      end: number;
      stepIndex: number;
      numScheduledTokens: number;
      numPrefillTokens: number;
      numDecodeTokens: number;
      numRunning: number;
      numWaiting: number;
      /** [reqId, tokens scheduled, isPrefill(1)/decode(0)] per scheduled request. */
      scheduled: [number, number, number][];
    }
  | { type: "admitted"; t: number; reqId: number; cachedTokens: number; resumed: boolean }
  | { type: "preempted"; t: number; reqId: number; lostTokens: number }
  | { type: "first_token"; t: number; reqId: number }
  | { type: "finished"; t: number; reqId: number }
  | {
      type: "blocks_allocated";
      t: number;
      reqId: number;
      blockIds: number[];
      /** More than one KV-cache group only: how many of `blockIds` each group holds, in group order. */
      groupBlocks?: number[];
    }
  | {
      type: "blocks_touched";
      t: number;
      reqId: number;
      blockIds: number[];
      /**
       * More than one KV-cache group only: how many of `blockIds` each group holds, in group order. Every group's hit
       * covers the same chain positions 0..L−1 (COORD-1) and full-attention groups hold no null block, so L is the
       * largest count; a sliding group with k < L blocks has L − k null blocks in front of them.
       */
      groupBlocks?: number[];
    }
  | { type: "blocks_freed"; t: number; reqId: number; blockIds: number[] }
  | { type: "blocks_cached"; t: number; reqId: number; blockIds: number[]; firstBlockIndex: number }
  | { type: "blocks_evicted"; t: number; blockIds: number[] }
  | { type: "memory"; t: number; snapshot: MemorySnapshot };

export type EngineEventType = EngineEvent["type"];

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

/** The replay report (`vramscope replay --json`). Seconds and tokens. */
export interface ReplaySummary {
  requests: number;
  completed: number;
  rejected: number;
  preemptions: number;
  recomputedTokens: number;
  prefixCacheQueries: number;
  prefixCacheHitTokens: number;
  prefixCacheHitRate: number;
  ttft: Percentiles;
  tpot: Percentiles;
  e2e: Percentiles;
  queueTime: Percentiles;
  throughput: { requestsPerS: number; inputTokensPerS: number; outputTokensPerS: number };
  simulatedSeconds: number;
  engineSteps: number;
  peakKvUsage: number;
  meanKvUsage: number;
  numGpuBlocks: number;
  peakRunning: number;
  peakWaiting: number;
}

/** Per-request outcome (`--requests-out`). */
export interface RequestRecord {
  id: number;
  arrival: number;
  promptTokens: number;
  outputTokens: number;
  firstScheduledTime: number | null;
  firstTokenTime: number | null;
  finishTime: number | null;
  preemptions: number;
  /** Prefix hit at first admission, tokens. */
  cachedTokens: number;
  rejected: boolean;
}

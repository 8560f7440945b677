import type { GpuSpec } from "../hardware/types.ts";
import type { ModelSpec } from "../model/types.ts";

/** Optimizers whose state the accounting knows (`--optimizer`). */
export const OPTIMIZERS = ["adamw", "adam-8bit", "sgd", "sgd-momentum", "adafactor", "lion"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Mixed-precision recipes (`--precision`); each sets param/grad/master/optimizer-state/activation dtypes. */
export const PRECISIONS = ["article", "zero", "hf-mixed", "fp32", "bf16"] as const;
export type PrecisionPreset = (typeof PRECISIONS)[number];

export const PIPELINE_SCHEDULES = ["1f1b", "interleaved"] as const;
export type PipelineSchedule = (typeof PIPELINE_SCHEDULES)[number];

/** Cross-entropy implementations (`--loss`): how big the logits spike is (see loss.ts). */
export const LOSS_IMPLS = ["standard", "chunked", "fused"] as const;
export type LossImpl = (typeof LOSS_IMPLS)[number];

/** "none" | "full" | "selective" | "every-k:N" (checkpoint the input of every group of N layers). */
export type CheckpointingSpec = "none" | "full" | "selective" | `every-k:${number}`;

/**
 * Everything that shapes one training step's memory. A plain object: the CLI, the server and the RL model all
 * build one. Only `model` or `numParams` is required; every other field has the default named beside it.
 */
export interface TrainingConfig {
  /** The model (from `resolveModel`). Needed for activations, logits, per-layer units and pipeline stages. */
  model?: ModelSpec;
  /** A bare parameter count (`--params 7.5e9`): model states only, no activations. Overrides the model's count. */
  numParams?: number;
  /** The GPU for the verdict (fits / OOM by how much / what would make it fit). Optional. */
  gpu?: GpuSpec;
  /** World size (default 1). Data-parallel degree = numGpus / (tp · pp). */
  numGpus?: number;
  /** Sequences per micro-batch (default 1). */
  microBatchSize?: number;
  /** Tokens per sequence (default 2048). */
  seqLen?: number;
  /** Micro-batches per optimizer step on each DP rank: gradient accumulation, and the pipeline's m (default 1, or pp). */
  numMicroBatches?: number;
  /** 0 = DDP (replicated), 1 = optimizer states sharded, 2 = + gradients, 3 = + parameters (FSDP FULL_SHARD). Default 0. */
  zeroStage?: 0 | 1 | 2 | 3;
  /** Tensor-parallel degree (default 1). Must divide the attention heads. */
  tp?: number;
  /** Sequence parallelism over the TP group (Korthikanti et al. 2022): norms/dropout activations also split by tp. */
  sequenceParallel?: boolean;
  /** Pipeline stages (default 1). */
  pp?: number;
  /** Default "1f1b". */
  pipelineSchedule?: PipelineSchedule;
  /** Model chunks per device for the interleaved schedule (Megatron's virtual pipeline size; default 2). */
  virtualStages?: number;
  /** Default "none". */
  activationCheckpointing?: CheckpointingSpec;
  /** FlashAttention/SDPA: no a·s² score tensors stored (default true). */
  flashAttention?: boolean;
  /** Default "zero" (2 + 2 + 12 = 16 B/param). */
  precision?: PrecisionPreset;
  /** Overrides of the preset: "bf16" | "fp16" | "fp32" (and aliases). */
  paramDtype?: string;
  gradDtype?: string;
  /** "fp32" keeps an fp32 master copy of the weights; "none" updates the parameters in place. */
  masterWeights?: "fp32" | "none";
  /** Dtype of the activations saved for backward (default: the param dtype). */
  activationDtype?: string;
  /** Default "adamw". */
  optimizer?: OptimizerName;
  /** Dtype of 32-bit optimizer states (adamw/sgd-momentum/lion/adafactor; default fp32). */
  optimizerStateDtype?: string;
  /** Adafactor's first moment (beta1; HF default None → no momentum). */
  adafactorMomentum?: boolean;
  /** "foreach" (PyTorch's default: the step allocates a temporary the size of one state) or "fused" (none). */
  optimizerImpl?: "foreach" | "fused";
  /** Optimizer states, master weights and fp32 gradients live in CPU RAM (ZeRO-Offload). */
  offloadOptimizer?: boolean;
  /** Parameter shards live in CPU RAM (ZeRO-3 offload_param / FSDP CPUOffload); needs zeroStage 3. */
  offloadParams?: boolean;
  /** Fraction of allocated memory the caching allocator holds on top (fragmentation), default 0.05. */
  allocatorReserve?: number;
  /** CUDA context + kernels, bytes (default 1.343e9, HF's measured 1343 MB). */
  cudaContextBytes?: number;
  /** DDP: gradients as views into the all-reduce buckets (default false, PyTorch's default → buckets cost a gradient copy). */
  ddpGradientAsBucketView?: boolean;
  /** ZeRO-1/2 reduce bucket, elements (DeepSpeed reduce_bucket_size, default 5e8). */
  reduceBucketElements?: number;
  /** ZeRO-3/FSDP decoder-layer units gathered at once: the current one + prefetched (default 2). */
  fsdpUnitsInFlight?: number;
  /** ZeRO-3: parameters of the largest gathered unit, overriding one decoder layer (DeepSpeed's largest_layer_params). */
  fsdpUnitParams?: number;
  /** Default "standard" (PyTorch cross-entropy with the fp32 upcast). */
  loss?: LossImpl;
  /** Chunks for `loss: "chunked"` (default 8, torchtune's). */
  lossChunks?: number;
}

/** Every field of TrainingConfig with its default applied and dtypes in bytes. */
export interface ResolvedTrainingConfig {
  model?: ModelSpec;
  numParams: number;
  gpu?: GpuSpec;
  numGpus: number;
  dp: number;
  tp: number;
  pp: number;
  sequenceParallel: boolean;
  microBatchSize: number;
  seqLen: number;
  numMicroBatches: number;
  zeroStage: 0 | 1 | 2 | 3;
  pipelineSchedule: PipelineSchedule;
  virtualStages: number;
  checkpointing: { kind: "none" | "full" | "selective" | "every-k"; k: number };
  flashAttention: boolean;
  precision: PrecisionPreset;
  paramBytes: number;
  gradBytes: number;
  masterBytes: number;
  activationBytes: number;
  optimizer: OptimizerName;
  optimizerStateBytes: number;
  adafactorMomentum: boolean;
  optimizerImpl: "foreach" | "fused";
  offloadOptimizer: boolean;
  offloadParams: boolean;
  allocatorReserve: number;
  cudaContextBytes: number;
  ddpGradientAsBucketView: boolean;
  reduceBucketElements: number;
  fsdpUnitsInFlight: number;
  fsdpUnitParams?: number;
  loss: LossImpl;
  lossChunks: number;
}

/** Memory terms on one GPU, bytes. The TimelineEvent's `bytes` and the report's `atPeak` use this shape. */
export interface MemoryTerms {
  params: number;
  grads: number;
  optimizer: number;
  masterWeights: number;
  activations: number;
  logits: number;
  overhead: number;
  total: number;
}

/** The overhead term split into its parts (bytes). */
export interface OverheadBreakdown {
  cudaContext: number;
  /** DDP all-reduce buckets or the ZeRO-1/2 reduce bucket. */
  commBuckets: number;
  /** ZeRO-3/FSDP: unsharded parameters of the units gathered (decoder layers in flight + the root unit). */
  gatheredParams: number;
  /** ZeRO-2/3: unsharded gradients of the unit in backward, before reduce-scatter. */
  unshardedGrads: number;
  /** The optimizer step's temporary (foreach implementations). */
  optimizerTransient: number;
  /** Caching-allocator reserve: `allocatorReserve` × allocated bytes. */
  allocatorReserve: number;
}

/** One GPU (one pipeline stage; all DP/TP ranks of a stage hold the same amounts). */
export interface DeviceReport {
  stage: number;
  /** Decoder layers on this stage (all chunks). */
  numLayers: number;
  /** Parameters held by this device before ZeRO sharding (after TP/PP split). */
  stageParams: number;
  paramsBytes: number;
  gradsBytes: number;
  optimizerBytes: number;
  masterWeightsBytes: number;
  activationsBytes: number;
  logitsBytes: number;
  overheadBytes: number;
  /** = the sum of the seven terms above (INV-T1), the largest total over the step. */
  peakBytes: number;
  /** Which moment of the step is the peak, e.g. "backward layer 31, micro-batch 1". */
  peakAt: string;
  overhead: OverheadBreakdown;
  /** Largest each term gets during the step (not all at the same moment). */
  maxTerms: Omit<MemoryTerms, "total">;
  /** Micro-batches whose activations this stage holds at once (1F1B: p − stage; interleaved: in model chunks / v). */
  inFlightMicroBatches: number;
  /** Activation bytes one micro-batch leaves on this stage after its forward. */
  activationsPerMicroBatch: number;
  /** In CPU RAM (offload): params, optimizer states, master weights, fp32 gradients. */
  cpuBytes: number;
  fits?: boolean;
}

export interface Suggestion {
  /** The single change, e.g. "--zero-stage 3". */
  change: string;
  peakBytes: number;
  fits: boolean;
}

export interface TrainingReport {
  config: ResolvedTrainingConfig;
  /** One entry per pipeline stage. */
  devices: DeviceReport[];
  /** The stage with the largest peak. */
  peakDevice: number;
  peakBytes: number;
  gpuMemoryBytes?: number;
  fits?: boolean;
  /** peakBytes − gpu memory when it does not fit. */
  oomByBytes?: number;
  /** When it does not fit: each single change re-run through the accounting, those that fit first. */
  suggestions: Suggestion[];
  /** Per-param bytes of the model states before sharding (e.g. 16 for "zero"). */
  bytesPerParam: { params: number; grads: number; optimizer: number; masterWeights: number; total: number };
  notes: string[];
}

export type TimelinePhase = "setup" | "forward" | "loss" | "backward" | "reduce" | "optimizer";

/** Memory on one GPU after one event of a training step. */
export interface TimelineEvent {
  type: "train_memory";
  /** Event index within the step. */
  t: number;
  phase: TimelinePhase;
  label: string;
  stage: number;
  layer?: number;
  microBatch?: number;
  bytes: MemoryTerms;
}

export interface TrainingTimeline {
  stage: number;
  events: TimelineEvent[];
  peakBytes: number;
  peakIndex: number;
}

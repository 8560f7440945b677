import type { GpuSpec } from "../hardware/types.ts";
import type { ModelSpec } from "../model/types.ts";
import type { ReplaySummary } from "../serving/types.ts";
import type { LengthDist } from "../traces/length-dist.ts";
import type { AlgorithmOptions, RlAlgorithm, RoleKind, RoleName } from "./algorithms.ts";

/**
 * Where the roles live. colocate: every role on the same GPUs, time-shared, the rollout engine asleep between
 * generate phases (verl's hybrid engine, TRL `vllm_mode="colocate"`, OpenRLHF `--colocate_all_models`).
 * separate: one GPU group per role, the rollout engine on its own group (OpenRLHF's Ray layout, TRL `vllm-serve`).
 */
export type RlPlacement = "colocate" | "separate";

/**
 * vLLM's sleep mode between generate phases (`LLM.sleep(level)`): 0 = no sleep (weights and the whole KV
 * reservation stay on the GPU through training), 1 = weights offloaded to CPU RAM and KV discarded, 2 = weights
 * and KV discarded (reloaded from the trainer at sync; TRL's choice). Either level leaves only the non-torch
 * residue (CUDA context, NCCL; CUDA graphs too, which cannot be offloaded — verl runs `enforce_eager`).
 */
export type RolloutSleepLevel = 0 | 1 | 2;

/**
 * How the rollout engine's `gpu_memory_utilization` meets memory that the colocated trainer already holds.
 * "shared": early V1 vLLM (v0.7–v0.8.x) measured non-torch memory as (total − free) − own torch memory, so the
 * trainer's resident state is subtracted from util × total: the KV cache shrinks by whatever training keeps on the
 * GPU. "instance": vLLM ≥ 0.8.5, util × total is this instance's own budget and startup fails when less than that
 * is free (/work/shared/vllm/README.md §1b). The default is "instance" (`DEFAULT_ROLLOUT_MEMORY_ACCOUNTING`).
 */
export type RolloutMemoryAccounting = "shared" | "instance";

/** The subset of the training model's configuration a role's update uses (everything but model and sequence). */
export interface RlTrainingFlags {
  microBatchSize: number;
  /**
   * Passed through to the training model (ZeRO stage, TP, checkpointing, precision, optimizer, offload…), except
   * that an absent `zeroStage` gets the RL default (`rlTrainingFlags` in defaults.ts: ZeRO-3 over 2+ DP ranks).
   */
  extra: Record<string, unknown>;
}

export interface RolloutEngineConfig {
  /** Fraction of each GPU's total memory the engine may use (TRL colocate default 0.3; verl example 0.5–0.6). */
  gpuMemoryUtilization: number;
  tensorParallelSize: number;
  sleepLevel: RolloutSleepLevel;
  accounting: RolloutMemoryAccounting;
  /** separate placement: GPUs of the rollout group (default: `numGpus`). */
  numGpus?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  blockSize?: number;
  enablePrefixCaching: boolean;
  /** Constant step time for the rollout engine (seconds), instead of its cost model. */
  stepTimeS?: number;
}

export interface RlConfig extends AlgorithmOptions {
  algorithm: RlAlgorithm;
  /** The policy (actor / policy / generator / revision). */
  model: ModelSpec;
  /** PPO's critic and CAI's critics (default: `model`). */
  criticModel?: ModelSpec;
  /** PPO's reward model (default: `model`). */
  rewardModel?: ModelSpec;
  gpu: GpuSpec;
  /** GPUs the roles share (colocate), or GPUs per role group (separate). */
  numGpus: number;
  placement: RlPlacement;
  rollout: RolloutEngineConfig;
  /** Completions per prompt (GRPO's G; PPO/CAI usually 1; DPO: 2 = chosen + rejected, fixed). */
  numGenerations: number;
  promptLen: number;
  /** Longest response (vLLM max_tokens): the length trained on, and the cap of `responseLenDist`. */
  responseLen: number;
  /**
   * How long completions actually run in the generate phase (drawn per completion with `seed`, capped at
   * `responseLen`); absent → all run to `responseLen`, the worst case. The update still pads to `responseLen`.
   */
  responseLenDist?: LengthDist;
  /** Prompts per iteration (DPO: preference pairs per step). */
  rolloutBatchSize: number;
  training: RlTrainingFlags;
  /** Trained roles' states moved to CPU while generating (OpenRLHF `--deepspeed_enable_sleep`, verl param/optimizer offload). */
  offloadTrainStatesDuringRollout: boolean;
  /** Frozen roles' weights kept on CPU except during their forward pass (OpenRLHF `--ref_reward_offload`, verl `ref.fsdp_config.param_offload`). */
  offloadFrozenRoles: boolean;
  seed: number;
}

/** Memory components on one GPU. */
export const COMPONENTS = [
  "params",
  "grads",
  "optimizer",
  "masterWeights",
  "activations",
  "logits",
  "overhead",
  "rolloutWeights",
  "rolloutActivations",
  "rolloutNonTorch",
  "kvUsed",
  "kvCachedFree",
  "kvFree",
  "buffer",
] as const;
export type Component = (typeof COMPONENTS)[number];

export type RlPhaseName = "generate" | "score" | "train" | "sync";
export const RL_PHASES: readonly RlPhaseName[] = ["generate", "score", "train", "sync"];

/** One GPU's memory after one event. `byRole` and `byComponent` each sum to `total`. */
export interface RlTimelineEvent {
  index: number;
  phase: RlPhaseName;
  /** The GPU group (separate placement) or "all" (colocate). */
  group: string;
  label: string;
  role?: RoleName | "rollout-buffer";
  byRole: Record<string, number>;
  byComponent: Partial<Record<Component, number>>;
  total: number;
}

export interface RlRoleReport {
  name: RoleName;
  kind: RoleKind;
  model: string;
  /** The role's own peak on one GPU over the iteration. */
  bytesPerGpu: number;
  /** The least the role holds on one GPU over the iteration (what it keeps while idle; 0 when offloaded). */
  residentBytesPerGpu: number;
  /** CPU RAM the role's offloaded state takes per GPU, while offloaded. */
  cpuBytesPerGpu: number;
  group: string;
  why: string;
}

export interface RlGroupReport {
  name: string;
  roles: string[];
  numGpus: number;
  peakBytesPerGpu: number;
  peakPhase: RlPhaseName;
  peakEvent: string;
  fits: boolean;
}

export interface RlRolloutReport {
  /** Engine replicas (data-parallel) and the share of the batch one replica generates. */
  numReplicas: number;
  requestsPerReplica: number;
  /** The KV budget the engine started with on one GPU. */
  kvCacheBytes: number;
  numGpuBlocks: number;
  kvCacheTokens: number;
  /** Bytes the trainer held on the GPU when the engine measured its budget ("shared" accounting). */
  colocatedResidentBytes: number;
  summary: ReplaySummary;
  logLines: string[];
}

export interface RlReport {
  algorithm: RlAlgorithm;
  placement: RlPlacement;
  gpu: string;
  gpuMemoryBytes: number;
  numGpusTotal: number;
  roles: RlRoleReport[];
  phases: { name: RlPhaseName; peakBytesPerGpu: number }[];
  groups: RlGroupReport[];
  peakBytesPerGpu: number;
  peakPhase: RlPhaseName;
  peakEvent: string;
  fits: boolean;
  /** Bytes over the GPU at the peak (0 when it fits). */
  oomByBytes: number;
  rolloutBuffer: { totalBytes: number; bytesPerGpu: number; terms: Record<string, number> };
  rollout: RlRolloutReport | null;
  notes: string[];
  timeline: RlTimelineEvent[];
}

import type { RlPlacement, RolloutMemoryAccounting } from "./types.ts";

/**
 * The defaults of an RL run, in one place so that `vramscope rl`, the RL view and the server's `rl` kind model the
 * same job when the user says nothing: today's common case, "GRPO/PPO on a 7B model, 8 × H100, colocated vLLM".
 */

/**
 * vLLM ≥ 0.8.5 (every version in use in late 2026): `gpu_memory_utilization × total` is the instance's own budget.
 * `Worker.init_device` (vllm/v1/worker/gpu_worker.py) takes `requested_memory = total_memory ×
 * gpu_memory_utilization` and raises "Free memory on device … is less than desired GPU memory utilization" when
 * less than that is free; `determine_available_memory` then gives the KV cache `requested_memory −
 * non_kv_cache_memory`, where `memory_profiling` (vllm/utils/mem_utils.py) counts only the weights, the profile
 * run's torch peak increase and the non-torch increase *since the startup snapshot* — memory other processes (the
 * colocated trainer) held before startup is not subtracted. verl's doc says the same of
 * `actor_rollout_ref.rollout.gpu_memory_utilization`: "the fraction of total GPU memory to be used for the vLLM
 * instance". "shared" (the trainer's memory comes out of util × total) is vLLM 0.7–0.8.x, kept as an option.
 */
export const DEFAULT_ROLLOUT_MEMORY_ACCOUNTING: RolloutMemoryAccounting = "instance";

/**
 * gpu_memory_utilization of the rollout engine: 0.3 colocated (TRL's `vllm_gpu_memory_utilization` default for
 * `vllm_mode="colocate"`), 0.9 on its own GPUs (vLLM's and `trl vllm-serve`'s default).
 */
export function defaultRolloutUtilization(placement: RlPlacement): number {
  return placement === "colocate" ? 0.3 : 0.9;
}

/**
 * The trainer's ZeRO stage when none is given: 3 (parameters, gradients and optimizer states sharded over the
 * data-parallel ranks) whenever there is more than one rank. This is what the RL libraries run:
 * - verl: FSDP with `fsdp_config.fsdp_size: -1` builds a 1-D device mesh over every rank, and
 *   `get_sharding_strategy` maps a 1-D mesh to `ShardingStrategy.FULL_SHARD` (verl/utils/fsdp_utils.py);
 * - OpenRLHF: `--zero_stage` defaults to 2 in `train_ppo_ray.py`, but its RL scripts (e.g.
 *   `train_grpo_ray_hybrid_engine.sh`, `train_ppo_llama_ray_hybrid_engine.sh`) all pass `--zero_stage 3`;
 * - TRL: sharding is the accelerate config's; its multi-GPU GRPO/DPO recipes use `deepspeed_zero3.yaml`.
 * With one data-parallel rank there is nothing to shard over (FSDP falls back to NO_SHARD at world size 1), so the
 * default there is 0 — and ZeRO-3's gathered-layer transients would otherwise be counted for nothing.
 * With pipeline parallelism (ZeRO-2/3 cannot be combined with it) the training model's own default stays.
 */
export const RL_DEFAULT_ZERO_STAGE = 3;

/** The training flags a trained role's update gets: the user's, with the RL sharding default when no stage is set. */
export function rlTrainingFlags(extra: Record<string, unknown>, numGpus: number): Record<string, unknown> {
  if (extra.zeroStage !== undefined) return extra;
  const pp = Number(extra.pp ?? 1);
  if (pp > 1) return extra;
  const dp = Math.floor(numGpus / Math.max(1, Number(extra.tp ?? 1)));
  return { ...extra, zeroStage: dp > 1 ? RL_DEFAULT_ZERO_STAGE : 0 };
}

/** True when the RL default picked the trainer's ZeRO stage (the user gave none). */
export function zeroStageDefaulted(extra: Record<string, unknown>): boolean {
  return extra.zeroStage === undefined && Number(extra.pp ?? 1) <= 1;
}

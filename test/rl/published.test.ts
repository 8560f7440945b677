import { describe, expect, it } from "vitest";
import { isUserError } from "../../sim/errors.ts";
import { resolveGpu } from "../../sim/hardware/registry.ts";
import { resolveModel } from "../../sim/model/registry.ts";
import { DEFAULT_ALGORITHM_OPTIONS } from "../../sim/rl/algorithms.ts";
import { simulateRl } from "../../sim/rl/index.ts";
import type { RlConfig } from "../../sim/rl/types.ts";
import { GiB } from "../../sim/units.ts";

/**
 * verl docs/perf/device_tuning.rst ("Hardware Resource Needed for RL", 06/2025): the minimum resources that ran
 * full-parameter GRPO on Qwen2-7B are 2 × H800 (80 GB), with the script
 * examples/tuning/7b/qwen2-7b_grpo_2_h800_fsdp_vllm.sh: train_batch_size 1024, max_prompt 1024, max_response 1024,
 * micro_batch_per_gpu 16, n = 5, use_kl_loss (reference loaded, param_offload=True), gradient checkpointing, actor
 * param_offload + optimizer_offload, rollout TP 2, gpu_memory_utilization 0.6 (vLLM 0.8.2: the instance's own
 * fraction of total memory). Source: /work/shared/data/training-ground-truth.md §6b. The H100-SXM-80GB preset
 * stands in for the H800 (same 80 GB HBM3). verl computes log-probs with a chunked/fused cross-entropy kernel,
 * modelled here as `loss: "chunked"`.
 */
const verlScript = (offload: boolean): RlConfig => ({
  ...DEFAULT_ALGORITHM_OPTIONS,
  algorithm: "grpo",
  beta: 0.001, // kl_loss_coef
  model: resolveModel("Qwen/Qwen2-7B-Instruct"),
  gpu: resolveGpu("H100-SXM-80GB"),
  numGpus: 2,
  placement: "colocate",
  rollout: { gpuMemoryUtilization: 0.6, tensorParallelSize: 2, sleepLevel: 1, accounting: "instance", enablePrefixCaching: true, stepTimeS: 0.05 },
  numGenerations: 5,
  promptLen: 1024,
  responseLen: 1024,
  rolloutBatchSize: 1024,
  training: {
    microBatchSize: 16,
    extra: { zeroStage: 3, activationCheckpointing: "full", loss: "chunked", offloadParams: offload, offloadOptimizer: offload },
  },
  offloadTrainStatesDuringRollout: false,
  offloadFrozenRoles: offload,
  seed: 0,
});

describe("verl's minimum Qwen2-7B GRPO setup (2 × 80 GB)", { timeout: 120_000 }, () => {
  it("fits with param + optimizer offload; the generate phase holds 0.6 × total beside what stays resident", () => {
    const r = simulateRl(verlScript(true));
    expect(r.fits).toBe(true);
    expect(roleNamesOf(r)).toEqual(["policy", "reference", "rollout-engine"]);
    // 1024 prompts × 5 on one TP-2 engine (2 GPUs / TP 2 = 1 replica).
    expect(r.rollout!.numReplicas).toBe(1);
    expect(r.rollout!.summary.completed).toBe(5120);
    const wake = r.timeline.find((e) => e.label.startsWith("wake rollout engine"))!;
    const engine = wake.byRole["rollout-engine"];
    expect(Math.abs(engine - 0.6 * 79.19 * GiB)).toBeLessThanOrEqual(2);
  });
  it("without offload vLLM cannot start: 16 B × 7.6B / 2 of model states leave less than 0.6 × 80 GB free", () => {
    let err: unknown;
    try {
      simulateRl(verlScript(false));
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^--rollout-gpu-memory-utilization: Free memory on device .* is less than desired GPU memory utilization \(0\.6/);
  });
});

function roleNamesOf(r: { roles: { name: string }[] }): string[] {
  return r.roles.map((x) => x.name);
}

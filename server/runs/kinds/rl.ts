/**
 * Run kind `rl`: one RL fine-tuning iteration's per-GPU memory (generate → score → train → sync), from `sim/rl/`,
 * played event by event like `train` (simulated "time" = event index; frame `extra` = RlTimelineEvents; the
 * summary's `result` = the RL report without its timeline). Defaults are `vramscope rl`'s (sim/rl/defaults.ts:
 * "instance" accounting, util 0.3 colocated / 0.9 separate, ZeRO-3 over ≥ 2 data-parallel ranks), except the model
 * (a 1.5B policy, so the default run fits one GPU).
 */
import { Type, type Static } from "@sinclair/typebox";
import { resolveGpu } from "../../../sim/hardware/registry.ts";
import { resolveModel } from "../../../sim/model/registry.ts";
import { parseAlgorithm, RL_ALGORITHMS } from "../../../sim/rl/algorithms.ts";
import type { RlConfig, RolloutSleepLevel } from "../../../sim/rl/types.ts";
import { DEFAULT_ROLLOUT_MEMORY_ACCOUNTING, defaultRolloutUtilization } from "../../../sim/rl/defaults.ts";
import { DEFAULT_GPU } from "../../../sim/serving/config.ts";
import { withConfigFields } from "./replay.ts";
import { modelFacts, type PreparedRun, type RunKind } from "./types.ts";

const posInt = (max: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: max }));

/** A model that a GRPO iteration fits on one 80 GB GPU with the CLI's defaults (the 8B serving default does not). */
export const DEFAULT_RL_MODEL = "Qwen/Qwen2.5-1.5B-Instruct";

export const RlConfigSchema = Type.Object(
  {
    algorithm: Type.Optional(Type.Union(RL_ALGORITHMS.map((a) => Type.Literal(a)))),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    criticModel: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    rewardModel: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    gpu: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    numGpus: posInt(100_000),
    placement: Type.Optional(Type.Union([Type.Literal("colocate"), Type.Literal("separate")])),
    rolloutGpuMemoryUtilization: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    rolloutTensorParallelSize: posInt(1024),
    /** Default "instance" (vLLM ≥ 0.8.5: util × total is the engine's own budget), as `vramscope rl`. */
    rolloutMemoryAccounting: Type.Optional(Type.Union([Type.Literal("shared"), Type.Literal("instance")])),
    rolloutSleepLevel: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)])),
    rolloutStepTimeS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
    numGenerations: posInt(1024),
    beta: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    promptLen: posInt(1_000_000),
    responseLen: posInt(1_000_000),
    rolloutBatchSize: posInt(100_000),
    microBatchSize: posInt(100_000),
    zeroStage: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2), Type.Literal(3)])),
    activationCheckpointing: Type.Optional(Type.String({ maxLength: 40 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);
export type RlRunConfig = Static<typeof RlConfigSchema>;

export const rlKind: RunKind = {
  name: "rl",
  description: "One RL fine-tuning iteration (PPO, DPO, GRPO, CAI): per-GPU memory through generate, score, train and sync.",
  configSchema: RlConfigSchema,
  simModule: new URL("./rl-sim.ts", import.meta.url),
  prepare(raw): PreparedRun {
    const c = raw as RlRunConfig;
    const config = withConfigFields(() => {
      const algorithm = parseAlgorithm(c.algorithm ?? "grpo");
      const placement = c.placement ?? "colocate";
      const extra: Record<string, unknown> = { activationCheckpointing: c.activationCheckpointing ?? "full" };
      if (c.zeroStage !== undefined) extra.zeroStage = c.zeroStage;
      const rl: RlConfig = {
        algorithm,
        model: resolveModel(c.model ?? DEFAULT_RL_MODEL),
        criticModel: c.criticModel !== undefined ? resolveModel(c.criticModel) : undefined,
        rewardModel: c.rewardModel !== undefined ? resolveModel(c.rewardModel) : undefined,
        gpu: resolveGpu(c.gpu ?? DEFAULT_GPU),
        numGpus: c.numGpus ?? 1,
        placement,
        rollout: {
          gpuMemoryUtilization: c.rolloutGpuMemoryUtilization ?? defaultRolloutUtilization(placement),
          tensorParallelSize: c.rolloutTensorParallelSize ?? 1,
          sleepLevel: (c.rolloutSleepLevel ?? 1) as RolloutSleepLevel,
          accounting: c.rolloutMemoryAccounting ?? DEFAULT_ROLLOUT_MEMORY_ACCOUNTING,
          enablePrefixCaching: true,
          stepTimeS: c.rolloutStepTimeS,
        },
        numGenerations: c.numGenerations ?? (algorithm === "grpo" ? 8 : 1),
        beta: c.beta ?? 0,
        precomputeRefLogProbs: false,
        numCritics: 2,
        revision: "separate",
        grpoRewardModel: algorithm === "grpo" && c.rewardModel !== undefined,
        promptLen: c.promptLen ?? 512,
        responseLen: c.responseLen ?? 512,
        rolloutBatchSize: c.rolloutBatchSize ?? 64,
        training: { microBatchSize: c.microBatchSize ?? 1, extra },
        offloadTrainStatesDuringRollout: false,
        offloadFrozenRoles: false,
        seed: c.seed ?? 0,
      };
      return rl;
    });
    return {
      config: { ...c, algorithm: config.algorithm, model: config.model.name, gpu: config.gpu.name },
      facts: {
        ...modelFacts(config.model, config.gpu, config.rollout.tensorParallelSize),
      },
      budget: null,
      modelName: config.model.name,
      workerInput: config,
    };
  },
};

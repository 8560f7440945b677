/**
 * Run kind `train`: one training step's memory on one device, played event by event (forward layer by layer, loss,
 * backward, reduce, optimizer) from `sim/training/`. The timeline has no durations, so simulated "time" is the event
 * index: speed 10 shows ten events per second. Each frame's `extra` carries the training TimelineEvents it covers;
 * the summary's `result` has the peak and whether it fits the GPU.
 */
import { Type, type Static } from "@sinclair/typebox";
import { resolveGpu } from "../../../sim/hardware/registry.ts";
import { resolveModel } from "../../../sim/model/registry.ts";
import { DEFAULT_GPU, DEFAULT_MODEL } from "../../../sim/serving/config.ts";
import { computeTrainingMemory } from "../../../sim/training/accounting.ts";
import type { TrainingConfig } from "../../../sim/training/types.ts";
import { withConfigFields } from "./replay.ts";
import type { PreparedRun, RunKind } from "./types.ts";

export const TrainConfigSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    gpu: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    numGpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    microBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    seqLen: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    numMicroBatches: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    zeroStage: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2), Type.Literal(3)])),
    tp: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    pp: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    sequenceParallel: Type.Optional(Type.Boolean()),
    activationCheckpointing: Type.Optional(Type.String({ maxLength: 40 })),
    flashAttention: Type.Optional(Type.Boolean()),
    precision: Type.Optional(Type.String({ maxLength: 40 })),
    optimizer: Type.Optional(Type.String({ maxLength: 40 })),
    /** Pipeline stage to play (default: the one with the highest peak). */
    stage: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
  },
  { additionalProperties: false },
);
export type TrainConfig = Static<typeof TrainConfigSchema>;

export interface TrainWorkerInput {
  config: TrainingConfig;
  stage?: number;
}

export const trainKind: RunKind = {
  name: "train",
  description: "One training step's per-device memory timeline (params, grads, optimizer, activations, logits), event by event.",
  configSchema: TrainConfigSchema,
  simModule: new URL("./train-sim.ts", import.meta.url),
  prepare(raw): PreparedRun {
    const { model = DEFAULT_MODEL, gpu = DEFAULT_GPU, stage, ...rest } = raw as TrainConfig;
    const config = withConfigFields(() => {
      const c = { ...rest, model: resolveModel(model), gpu: resolveGpu(gpu) } as TrainingConfig;
      computeTrainingMemory(c); // validates the layout; errors name the flag → config.<field>
      return c;
    });
    const input: TrainWorkerInput = { config, stage };
    return {
      config: { ...rest, model, gpu, stage },
      facts: {
        modelName: config.model!.name,
        gpuName: config.gpu!.name,
        gpuMemoryBytes: config.gpu!.memoryBytes,
        tensorParallelSize: config.tp ?? 1,
        numLayers: config.model!.numLayers,
        numKvHeads: config.model!.numKvHeads,
        headDim: config.model!.headDim,
        hbmBandwidth: config.gpu!.hbmBandwidth,
      },
      budget: null,
      modelName: config.model!.name,
      workerInput: input,
    };
  },
};

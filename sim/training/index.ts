/** Training memory: per-device accounting under every parallelism, and a step timeline. */
export { computeTrainingMemory } from "./accounting.ts";
export { trainingTimeline, trainingTimelines, stageTimeline } from "./timeline.ts";
export { resolveTrainingConfig, parseCheckpointing, DEFAULT_ALLOCATOR_RESERVE, DEFAULT_CUDA_CONTEXT_BYTES } from "./config.ts";
export { layerActivations, extraActivations, korthikantiPerLayer, type LayerActivations, type ActivationShape } from "./activations.ts";
export { lossMemory, type LossMemory } from "./loss.ts";
export { optimizerStateBytes, parseOptimizer } from "./optimizer.ts";
export { PRESET_BYTES, parsePrecision, trainDtypeBytes } from "./precision.ts";
export { pipelineOps, buildStageModels, type StageModel, type PipeOp } from "./stage-model.ts";
export { stageParamsOfModel, partitionLayers } from "./stage-params.ts";
export { deepspeedZero2Estimate, deepspeedZero3Estimate } from "./deepspeed-estimator.ts";
export { suggestChanges } from "./suggestions.ts";
export * from "./types.ts";

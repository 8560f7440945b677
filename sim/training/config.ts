import { UserError } from "../errors.ts";
import { countParams } from "../model/params.ts";
import { parseOptimizer } from "./optimizer.ts";
import { parsePrecision, PRESET_BYTES, trainDtypeBytes } from "./precision.ts";
import type { CheckpointingSpec, ResolvedTrainingConfig, TrainingConfig } from "./types.ts";

/** HF's measured CUDA context + kernels: 1343 MB after `torch.ones((1,1)).to("cuda")` (V100; "model training anatomy"). */
export const DEFAULT_CUDA_CONTEXT_BYTES = 1343e6;
/**
 * Allocator reserve default: 5% of allocated bytes. PyTorch's caching allocator rounds and splits blocks, so
 * reserved exceeds allocated by a few percent in steady training; the ZeRO paper saw >30% unusable in extreme cases.
 */
export const DEFAULT_ALLOCATOR_RESERVE = 0.05;
/** DeepSpeed's `reduce_bucket_size` default (elements). */
export const DEFAULT_REDUCE_BUCKET_ELEMENTS = 5e8;

function posInt(v: number | undefined, def: number, flag: string): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got ${n}`, { field: flag });
  return n;
}

export function parseCheckpointing(spec: CheckpointingSpec | string): ResolvedTrainingConfig["checkpointing"] {
  if (spec === "none" || spec === "full" || spec === "selective") return { kind: spec, k: spec === "full" ? 1 : 0 };
  const m = /^every-k:(\d+)$/.exec(spec);
  if (m && Number(m[1]) >= 1) return { kind: "every-k", k: Number(m[1]) };
  throw new UserError(
    `--activation-checkpointing: expected none, full, selective or every-k:N (N ≥ 1 layers per checkpoint), got "${spec}"`,
    { field: "--activation-checkpointing" },
  );
}

/**
 * Applies defaults and checks the layout. Every error names the flag to change: TP not dividing the heads, more
 * pipeline stages than layers, zero GPUs, fewer micro-batches than stages, GPUs not divisible by tp·pp, ZeRO-2/3
 * with pipeline parallelism (DeepSpeed refuses it), offload without the ZeRO stage it needs.
 */
export function resolveTrainingConfig(c: TrainingConfig): ResolvedTrainingConfig {
  const model = c.model;
  if (!model && c.numParams === undefined)
    throw new UserError("give a model (--model) or a bare parameter count (--params)", { field: "--model" });
  if (model && c.numParams !== undefined)
    throw new UserError("give either --model or --params, not both", { field: "--params" });
  if (c.numParams !== undefined && !(Number.isFinite(c.numParams) && c.numParams > 0))
    throw new UserError(`--params must be a positive number, got ${c.numParams}`, { field: "--params" });
  const numParams = c.numParams ?? countParams(model!).total;
  if (c.numGpus !== undefined && c.numGpus < 1)
    throw new UserError(`--gpus must be at least 1, got ${c.numGpus}`, { field: "--gpus" });
  const numGpus = posInt(c.numGpus, 1, "--gpus");
  const tp = posInt(c.tp, 1, "--tp");
  const pp = posInt(c.pp, 1, "--pp");
  if (model) {
    if (model.numAttentionHeads % tp !== 0)
      throw new UserError(`--tp ${tp} does not divide the ${model.numAttentionHeads} attention heads of ${model.name}`, { field: "--tp" });
    if (!model.mla && model.numKvHeads % tp !== 0 && tp % model.numKvHeads !== 0)
      throw new UserError(`--tp ${tp} neither divides nor is a multiple of the ${model.numKvHeads} KV heads of ${model.name}`, { field: "--tp" });
    if (pp > model.numLayers)
      throw new UserError(`--pp ${pp} is more pipeline stages than the ${model.numLayers} layers of ${model.name}`, { field: "--pp" });
  }
  if (numGpus % (tp * pp) !== 0)
    throw new UserError(`--gpus ${numGpus} is not divisible by tp·pp = ${tp}·${pp} = ${tp * pp}`, { field: "--gpus" });
  const dp = numGpus / (tp * pp);
  const pipelineSchedule = c.pipelineSchedule ?? "1f1b";
  if (pipelineSchedule !== "1f1b" && pipelineSchedule !== "interleaved")
    throw new UserError(`--pipeline-schedule: expected 1f1b or interleaved, got "${pipelineSchedule}"`, { field: "--pipeline-schedule" });
  const virtualStages = pipelineSchedule === "interleaved" ? posInt(c.virtualStages, 2, "--virtual-stages") : 1;
  const numMicroBatches = posInt(c.numMicroBatches, pp, "--micro-batches");
  if (numMicroBatches < pp)
    throw new UserError(`--micro-batches ${numMicroBatches} is fewer than the ${pp} pipeline stages (the pipeline would never fill)`, {
      field: "--micro-batches",
    });
  if (pipelineSchedule === "interleaved") {
    if (pp < 2) throw new UserError("--pipeline-schedule interleaved needs --pp of at least 2", { field: "--pipeline-schedule" });
    if (numMicroBatches % pp !== 0)
      throw new UserError(`--micro-batches ${numMicroBatches} must be a multiple of --pp ${pp} for the interleaved schedule (Megatron)`, {
        field: "--micro-batches",
      });
    if (model && model.numLayers % (pp * virtualStages) !== 0)
      throw new UserError(
        `--virtual-stages ${virtualStages}: the ${model.numLayers} layers do not split into pp·v = ${pp * virtualStages} equal chunks`,
        { field: "--virtual-stages" },
      );
  }
  const zeroStage = c.zeroStage ?? 0;
  if (![0, 1, 2, 3].includes(zeroStage)) throw new UserError(`--zero-stage must be 0, 1, 2 or 3, got ${zeroStage}`, { field: "--zero-stage" });
  if (zeroStage >= 2 && pp > 1)
    throw new UserError(`--zero-stage ${zeroStage} cannot be combined with --pp ${pp} (DeepSpeed allows only ZeRO-1 with pipeline parallelism)`, {
      field: "--zero-stage",
    });
  const offloadOptimizer = c.offloadOptimizer ?? false;
  const offloadParams = c.offloadParams ?? false;
  if (offloadParams && zeroStage !== 3)
    throw new UserError("--offload-params needs --zero-stage 3 (or --fsdp): only sharded parameters can live on the CPU", {
      field: "--offload-params",
    });
  if (offloadOptimizer && zeroStage === 0)
    throw new UserError("--offload-optimizer needs --zero-stage 1, 2 or 3 (ZeRO-Offload)", { field: "--offload-optimizer" });

  const precision = parsePrecision(c.precision ?? "zero");
  const preset = PRESET_BYTES[precision];
  const paramBytes = c.paramDtype ? trainDtypeBytes(c.paramDtype, "--param-dtype") : preset.param;
  const gradBytes = c.gradDtype ? trainDtypeBytes(c.gradDtype, "--grad-dtype") : preset.grad;
  let masterBytes = preset.master;
  if (c.masterWeights === "fp32") masterBytes = 4;
  else if (c.masterWeights === "none") masterBytes = 0;
  else if (c.masterWeights !== undefined)
    throw new UserError(`--master-weights: expected fp32 or none, got "${c.masterWeights}"`, { field: "--master-weights" });
  const activationBytes = c.activationDtype
    ? trainDtypeBytes(c.activationDtype, "--activation-dtype")
    : c.paramDtype
      ? paramBytes
      : preset.activation;
  const optimizer = parseOptimizer(c.optimizer ?? "adamw");
  const optimizerStateBytes = c.optimizerStateDtype
    ? trainDtypeBytes(c.optimizerStateDtype, "--optimizer-state-dtype")
    : preset.optimizerState;
  const allocatorReserve = c.allocatorReserve ?? DEFAULT_ALLOCATOR_RESERVE;
  if (!(allocatorReserve >= 0 && allocatorReserve < 1))
    throw new UserError(`--allocator-reserve must be a fraction in [0, 1), got ${allocatorReserve}`, { field: "--allocator-reserve" });
  const checkpointing = parseCheckpointing(c.activationCheckpointing ?? "none");
  const loss = c.loss ?? "standard";
  if (!["standard", "chunked", "fused"].includes(loss))
    throw new UserError(`--loss: expected standard, chunked or fused, got "${loss}"`, { field: "--loss" });
  return {
    model,
    numParams,
    gpu: c.gpu,
    numGpus,
    dp,
    tp,
    pp,
    sequenceParallel: (c.sequenceParallel ?? false) && tp > 1,
    microBatchSize: posInt(c.microBatchSize, 1, "--micro-batch-size"),
    seqLen: posInt(c.seqLen, 2048, "--seq-len"),
    numMicroBatches,
    zeroStage: zeroStage as 0 | 1 | 2 | 3,
    pipelineSchedule,
    virtualStages,
    checkpointing,
    flashAttention: c.flashAttention ?? true,
    precision,
    paramBytes,
    gradBytes,
    masterBytes,
    activationBytes,
    optimizer,
    optimizerStateBytes,
    adafactorMomentum: c.adafactorMomentum ?? false,
    optimizerImpl: c.optimizerImpl ?? "foreach",
    offloadOptimizer,
    offloadParams,
    allocatorReserve,
    cudaContextBytes: c.cudaContextBytes ?? DEFAULT_CUDA_CONTEXT_BYTES,
    ddpGradientAsBucketView: c.ddpGradientAsBucketView ?? false,
    reduceBucketElements: c.reduceBucketElements ?? DEFAULT_REDUCE_BUCKET_ELEMENTS,
    fsdpUnitsInFlight: posInt(c.fsdpUnitsInFlight, 2, "--fsdp-units-in-flight"),
    fsdpUnitParams: c.fsdpUnitParams,
    loss: loss as ResolvedTrainingConfig["loss"],
    lossChunks: posInt(c.lossChunks, 8, "--loss-chunks"),
  };
}

import { extraActivations, layerActivations, type LayerActivations } from "./activations.ts";
import { lossMemory, type LossMemory } from "./loss.ts";
import { optimizerStateBytes, optimizerTransientBytes } from "./optimizer.ts";
import { stageParamsOfCount, stageParamsOfModel, type StageParams } from "./stage-params.ts";
import type { ResolvedTrainingConfig } from "./types.ts";

/**
 * A group of consecutive layers between two stored checkpoints. The forward leaves `stored` bytes per
 * micro-batch; the backward first recomputes `recompute` bytes (so the group holds all its layers' activations),
 * then frees one layer's full activations per layer. none: one layer per group, nothing recomputed; selective:
 * one layer per group, the core attention recomputed; full: one layer per group, only its input stored;
 * every-k: k layers per group, only the first one's input stored.
 */
export interface CheckpointGroup {
  layers: number[];
  stored: number;
  recompute: number;
  /** Stored bytes added by each layer's forward (sums to `stored`). */
  forwardAdds: number[];
}

/** One model chunk on a device (the whole stage unless interleaved). */
export interface ChunkPlan {
  index: number;
  layers: number[];
  hasEmbedding: boolean;
  hasHead: boolean;
  groups: CheckpointGroup[];
  /** Activations the chunk's forward leaves per micro-batch (groups + embedding/head extras). */
  storedPerMicroBatch: number;
  embeddingActivations: number;
  headActivations: number;
}

/**
 * Everything one device of a pipeline stage holds or allocates during a step, in bytes, as the accounting and
 * the timeline both read it. "Resident" terms persist across steps; the rest appear and disappear within one.
 */
export interface StageModel {
  stage: number;
  params: StageParams;
  chunks: ChunkPlan[];
  /** GPU-resident model states (ZeRO-sharded, minus what is offloaded). */
  paramsBytes: number;
  optimizerBytes: number;
  masterBytes: number;
  cpuBytes: number;
  /** Gradients in their resident form (full under ZeRO-0/1, the shard under ZeRO-2/3, 0 when offloaded). */
  gradPerLayer: number;
  gradEmbedding: number;
  gradHead: number;
  /** ZeRO-3: one gathered decoder layer, the number gathered at once, and the gathered root unit. */
  unitGathered: number;
  unitsInFlight: number;
  rootGathered: number;
  /** ZeRO-2/3: unsharded gradient of the layer in backward, and of the embedding / head (compute dtype). */
  unitGrad: number;
  embeddingGradTransient: number;
  headGradTransient: number;
  optimizerTransient: number;
  cudaContext: number;
  commBuckets: number;
  reserveFraction: number;
  layer: LayerActivations | null;
  /** Full activations of one layer (what each layer's backward frees). */
  layerFull: number;
  loss: LossMemory | null;
  /** Pipeline schedule for this device. */
  ops: PipeOp[];
}

export interface PipeOp {
  kind: "F" | "B";
  microBatch: number;
  chunk: number;
}

/**
 * The order of forward and backward passes on one pipeline device: Megatron's 1F1B (v = 1) and interleaved
 * schedules (`forward_backward_pipelining_with(out)_interleaving`): warm-up forwards, then one forward + one
 * backward in steady state, then cool-down backwards. Warm-up = p − i − 1 (1F1B) or 2(p − i − 1) + (v − 1)p
 * (interleaved; all m·v when m = p), capped at m·v. Without pipelining (p = 1) each micro-batch is F then B.
 */
export function pipelineOps(p: number, v: number, m: number, stage: number): PipeOp[] {
  const total = m * v;
  let warmup: number;
  if (v === 1) warmup = Math.min(p - stage - 1, m);
  else warmup = m === p ? total : Math.min((p - stage - 1) * 2 + (v - 1) * p, total);
  const group = p * v;
  const fwd = (k: number): PipeOp => ({
    kind: "F",
    chunk: Math.floor((k % group) / p),
    microBatch: Math.floor(k / group) * p + (k % p),
  });
  const bwd = (k: number): PipeOp => ({
    kind: "B",
    chunk: v - 1 - Math.floor((k % group) / p),
    microBatch: Math.floor(k / group) * p + (k % p),
  });
  const ops: PipeOp[] = [];
  for (let k = 0; k < warmup; k++) ops.push(fwd(k));
  const steady = total - warmup;
  for (let k = 0; k < steady; k++) {
    ops.push(fwd(warmup + k));
    ops.push(bwd(k));
  }
  for (let k = steady; k < total; k++) ops.push(bwd(k));
  return ops;
}

function checkpointGroups(layers: number[], full: number, cfg: ResolvedTrainingConfig, layer: LayerActivations | null): CheckpointGroup[] {
  if (layers.length === 0) return [];
  const { kind, k } = cfg.checkpointing;
  if (!layer) return layers.map((l) => ({ layers: [l], stored: 0, recompute: 0, forwardAdds: [0] }));
  if (kind === "none") return layers.map((l) => ({ layers: [l], stored: full, recompute: 0, forwardAdds: [full] }));
  if (kind === "selective") {
    const stored = full - layer.coreAttention;
    return layers.map((l) => ({ layers: [l], stored, recompute: layer.coreAttention, forwardAdds: [stored] }));
  }
  const size = kind === "full" ? 1 : k;
  const groups: CheckpointGroup[] = [];
  for (let i = 0; i < layers.length; i += size) {
    const ls = layers.slice(i, i + size);
    const stored = Math.min(layer.layerInput, full * ls.length);
    groups.push({ layers: ls, stored, recompute: full * ls.length - stored, forwardAdds: ls.map((_, j) => (j === 0 ? stored : 0)) });
  }
  return groups;
}

/** Builds the per-device model of every pipeline stage. */
export function buildStageModels(cfg: ResolvedTrainingConfig): StageModel[] {
  const model = cfg.model;
  const v = cfg.virtualStages;
  const stages = model ? stageParamsOfModel(model, cfg.tp, cfg.pp, v) : stageParamsOfCount(cfg.numParams, cfg.tp, cfg.pp, v);
  const dp = cfg.dp;
  const z = cfg.zeroStage;
  const shape = {
    seqLen: cfg.seqLen,
    microBatchSize: cfg.microBatchSize,
    tp: cfg.tp,
    sequenceParallel: cfg.sequenceParallel,
    flashAttention: cfg.flashAttention,
    actBytes: cfg.activationBytes,
  };
  const layer = model ? layerActivations(model, shape) : null;
  const layerFull = layer?.total ?? 0;
  const extras = model ? extraActivations(model, shape) : { embedding: 0, head: 0 };
  const tokens = cfg.seqLen * cfg.microBatchSize;
  return stages.map((sp) => {
    const n = sp.params;
    const optState = optimizerStateBytes(cfg.optimizer, n, sp.tensors, cfg.optimizerStateBytes, cfg.adafactorMomentum);
    const optShard = z >= 1 ? optState / dp : optState;
    const masterShard = z >= 1 ? (cfg.masterBytes * n) / dp : cfg.masterBytes * n;
    const paramShard = z >= 3 ? (cfg.paramBytes * n) / dp : cfg.paramBytes * n;
    const gradDiv = z >= 2 ? dp : 1;
    // ZeRO-Offload: optimizer states, master weights and (ZeRO-2/3) the fp32 gradient partition go to CPU.
    const gradsOnCpu = cfg.offloadOptimizer && z >= 2;
    const gradResident = (params: number) => (gradsOnCpu ? 0 : (cfg.gradBytes * params) / gradDiv);
    const cpuBytes =
      (cfg.offloadOptimizer ? optShard + masterShard + (gradsOnCpu ? (cfg.gradBytes * n) / dp : 0) : 0) +
      (cfg.offloadParams ? paramShard : 0);
    const embeddingParams = sp.hasEmbedding && model ? embeddingParamCount(sp, model.vocabSize, model.hiddenSize, model.positionEmbeddings, cfg.tp) : 0;
    const headParams = sp.rootParams - embeddingParams;
    const unitParams = cfg.fsdpUnitParams ?? (model ? sp.layerParams : 0);
    const allLayers = sp.chunkLayers.flat();
    const chunks: ChunkPlan[] = sp.chunkLayers.map((layers, index) => {
      const hasEmbedding = sp.hasEmbedding && index === 0;
      const hasHead = sp.hasHead && index === v - 1;
      const groups = checkpointGroups(layers, layerFull, cfg, layer);
      const embeddingActivations = hasEmbedding ? extras.embedding : 0;
      const headActivations = hasHead ? extras.head : 0;
      return {
        index,
        layers,
        hasEmbedding,
        hasHead,
        groups,
        embeddingActivations,
        headActivations,
        storedPerMicroBatch: groups.reduce((a, g) => a + g.stored, 0) + embeddingActivations + headActivations,
      };
    });
    const unsharded = z >= 2;
    return {
      stage: sp.stage,
      params: sp,
      chunks,
      paramsBytes: cfg.offloadParams ? 0 : paramShard,
      optimizerBytes: cfg.offloadOptimizer ? 0 : optShard,
      masterBytes: cfg.offloadOptimizer ? 0 : masterShard,
      cpuBytes,
      gradPerLayer: gradResident(sp.layerParams),
      gradEmbedding: gradResident(embeddingParams),
      gradHead: gradResident(headParams),
      unitGathered: z === 3 ? cfg.paramBytes * unitParams : 0,
      unitsInFlight: Math.min(cfg.fsdpUnitsInFlight, Math.max(1, allLayers.length)),
      rootGathered: z === 3 && cfg.fsdpUnitParams === undefined ? cfg.paramBytes * sp.rootParams : 0,
      unitGrad: unsharded ? cfg.paramBytes * unitParams : 0,
      embeddingGradTransient: unsharded && cfg.fsdpUnitParams === undefined ? cfg.paramBytes * embeddingParams : 0,
      headGradTransient: unsharded && cfg.fsdpUnitParams === undefined ? cfg.paramBytes * headParams : 0,
      optimizerTransient: cfg.offloadOptimizer
        ? 0
        : optimizerTransientBytes(cfg.optimizer, cfg.optimizerImpl, z >= 1 ? n / dp : n, cfg.optimizerStateBytes),
      cudaContext: cfg.cudaContextBytes,
      commBuckets: commBucketBytes(cfg, n),
      reserveFraction: cfg.allocatorReserve,
      layer,
      layerFull,
      loss: sp.hasHead && model ? lossMemory(tokens, Math.ceil(model.vocabSize / cfg.tp), cfg.activationBytes, cfg.loss, cfg.lossChunks) : null,
      ops: pipelineOps(cfg.pp, v, cfg.numMicroBatches, sp.stage),
    };
  });
}

function embeddingParamCount(sp: StageParams, vocab: number, h: number, positions: number, tp: number): number {
  if (!sp.hasEmbedding) return 0;
  return Math.ceil(vocab / tp) * h + positions * h;
}

/**
 * Communication buffers that live through the step. DDP (ZeRO-0, dp > 1): PyTorch's reducer allocates flat
 * all-reduce buckets covering every gradient unless `gradient_as_bucket_view=True` ("the saved memory size will be
 * equal to the total gradients size", DDP docs). ZeRO-1/2: DeepSpeed's reduce bucket (`reduce_bucket_size`
 * elements in the compute dtype). ZeRO-3/FSDP reduce-scatters each unit's own gradient (counted as `unitGrad`).
 */
function commBucketBytes(cfg: ResolvedTrainingConfig, stageParams: number): number {
  if (cfg.dp <= 1) return 0;
  if (cfg.zeroStage === 0) return cfg.ddpGradientAsBucketView ? 0 : cfg.gradBytes * stageParams;
  if (cfg.zeroStage <= 2) return cfg.paramBytes * Math.min(cfg.reduceBucketElements, stageParams);
  return 0;
}

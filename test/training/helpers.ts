import type { ModelSpec } from "../../sim/model/types.ts";
import type { TrainingConfig } from "../../sim/training/types.ts";

/**
 * Korthikanti et al. 2022's GPT layer, Table 3's GPT-3 175B row: h = 12288, a = 96, L = 96, v = 51200, a 4h GeLU
 * MLP, LayerNorm, biases and dropout (the assumptions of their §4.1).
 */
export function gpt3_175b(): ModelSpec {
  return {
    name: "korthikanti-gpt3-175b",
    modelType: "gpt2",
    hiddenSize: 12288,
    numLayers: 96,
    numAttentionHeads: 96,
    numKvHeads: 96,
    headDim: 128,
    intermediateSize: 4 * 12288,
    vocabSize: 51200,
    maxPositionEmbeddings: 2048,
    tieWordEmbeddings: true,
    gatedMlp: false,
    hiddenAct: "gelu",
    qkvBias: true,
    linearBias: true,
    normType: "layernorm",
    positionEmbeddings: 2048,
    dropout: 0.1,
    torchDtype: "float16",
  };
}

/** A small Llama-style model (GQA, SwiGLU, RMSNorm, no dropout) for property tests. */
export function tinyLlama(over: Partial<ModelSpec> = {}): ModelSpec {
  return {
    name: "tiny-llama",
    modelType: "llama",
    hiddenSize: 256,
    numLayers: 8,
    numAttentionHeads: 8,
    numKvHeads: 2,
    headDim: 32,
    intermediateSize: 688,
    vocabSize: 4096,
    maxPositionEmbeddings: 2048,
    tieWordEmbeddings: false,
    gatedMlp: true,
    hiddenAct: "silu",
    qkvBias: false,
    linearBias: false,
    normType: "rmsnorm",
    positionEmbeddings: 0,
    dropout: 0,
    torchDtype: "bfloat16",
    ...over,
  };
}

/** Model states only: no CUDA context, no allocator reserve, no comm buckets, no optimizer temporary. */
export const STATES_ONLY: Partial<TrainingConfig> = {
  cudaContextBytes: 0,
  allocatorReserve: 0,
  optimizerImpl: "fused",
  ddpGradientAsBucketView: true,
  reduceBucketElements: 0,
};

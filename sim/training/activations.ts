import type { ModelSpec } from "../model/types.ts";

/** What the activation accounting needs besides the model. */
export interface ActivationShape {
  seqLen: number;
  microBatchSize: number;
  tp: number;
  sequenceParallel: boolean;
  flashAttention: boolean;
  /** Bytes per saved activation element (2 for bf16/fp16). Dropout masks are 1 byte (torch.bool). */
  actBytes: number;
}

/**
 * Bytes one decoder layer saves for backward, per micro-batch, on one TP rank, tensor by tensor — the accounting of
 * Korthikanti et al. 2022 §4.1 generalised to the model's real shapes (GQA, SwiGLU, no dropout, flash attention).
 * For their GPT layer (GeLU 4h MLP, dropout, a·s² scores, 2-byte activations) the sum is sbh(34 + 5as/h) exactly.
 */
export interface LayerActivations {
  /** Inputs of the norms (saved by LayerNorm/RMSNorm backward): 2·sbh·B (4 with sandwich norms, + Q/K with q/k norms). */
  normInputs: number;
  /** Input of the QKV projection (the first norm's output): sbh·B. */
  attnInput: number;
  /** Q, K, V as the attention core saves them (GQA: K and V have numKvHeads heads). */
  qkv: number;
  /** Materialised softmax(QKᵀ) (a·s²·b·B); 0 with flash attention. */
  scores: number;
  /** Dropout mask on the scores (a·s²·b, 1 byte) and dropout's output (a·s²·b·B); 0 without dropout or with flash. */
  scoresDropout: number;
  /** Flash attention's softmax statistics (log-sum-exp, fp32, b·a·s). */
  softmaxStats: number;
  /** Input of the output projection (the attention output). */
  attnOutput: number;
  /** Dropout masks after attention and after the MLP (sbh bytes each), when the model has dropout. */
  residualDropoutMasks: number;
  /** Input of the MLP's first projection. */
  mlpInput: number;
  /**
   * MLP intermediates: GeLU MLP keeps the activation's input and the second projection's input (2·sbf·B); SwiGLU
   * keeps gate, up, act(gate) and the product (4·sbf·B); MoE layers do this for top-k experts per token plus
   * shared experts, with the dispatched copies of the hidden state and the router's fp32 logits.
   */
  mlpIntermediate: number;
  total: number;
  /** The part selective recomputation drops (Korthikanti's "core attention": scores, their dropout). */
  coreAttention: number;
  /** The layer's input: all that full recomputation keeps (2·sbh, or 2·sbh/t under sequence parallelism). */
  layerInput: number;
}

export function layerActivations(model: ModelSpec, x: ActivationShape): LayerActivations {
  const { seqLen: s, microBatchSize: b, tp: t, actBytes: B } = x;
  const h = model.hiddenSize;
  const sb = s * b;
  // Tensors the TP group replicates unless sequence parallelism splits them along the sequence.
  const rep = x.sequenceParallel ? 1 / t : 1;
  const dropout = model.dropout > 0;
  const heads = model.numAttentionHeads / t;
  const kvHeads = Math.max(1, model.numKvHeads / t);
  let qDim: number, kDim: number, vDim: number, oDim: number;
  if (model.mla) {
    const m = model.mla;
    qDim = heads * (m.qkNopeHeadDim + m.qkRopeHeadDim);
    kDim = qDim;
    vDim = heads * m.vHeadDim;
    oDim = vDim;
  } else {
    qDim = heads * model.headDim;
    kDim = kvHeads * model.headDim;
    vDim = kDim;
    oDim = qDim;
  }
  // Gemma-2's sandwich norms add a post-attention and a post-MLP norm; Qwen3's q/k norms save Q and K before norm.
  const normInputs = (model.sandwichNorms ? 4 : 2) * sb * h * B * rep + (model.qkNorm ? sb * (qDim + kDim) * B : 0);
  const attnInput = sb * h * B * rep;
  let qkv = sb * (qDim + kDim + vDim) * B;
  if (model.mla) qkv += sb * ((model.mla.qLoraRank ?? 0) + model.mla.kvLoraRank + model.mla.qkRopeHeadDim) * B;
  const scoreElems = heads * s * s * b;
  const scores = x.flashAttention ? 0 : scoreElems * B;
  const scoresDropout = x.flashAttention || !dropout ? 0 : scoreElems * (1 + B);
  const softmaxStats = x.flashAttention ? heads * sb * 4 : 0;
  const attnOutput = sb * oDim * B;
  const residualDropoutMasks = dropout ? 2 * sb * h * rep : 0;
  const mlpInput = sb * h * B * rep;
  const mlpIntermediate = mlpIntermediateBytes(model, sb, t, B);
  const coreAttention = scores + scoresDropout;
  const total =
    normInputs + attnInput + qkv + scores + scoresDropout + softmaxStats + attnOutput + residualDropoutMasks + mlpInput + mlpIntermediate;
  return {
    normInputs,
    attnInput,
    qkv,
    scores,
    scoresDropout,
    softmaxStats,
    attnOutput,
    residualDropoutMasks,
    mlpInput,
    mlpIntermediate,
    total,
    coreAttention,
    layerInput: sb * h * B * rep,
  };
}

/** Per layer, averaged over the model's dense and MoE layers. */
function mlpIntermediateBytes(model: ModelSpec, sb: number, t: number, B: number): number {
  const perToken = (f: number) => (model.gatedMlp ? 4 : 2) * (f / t) * B;
  const dense = sb * perToken(model.intermediateSize);
  const moe = model.moe;
  if (!moe) return dense;
  const h = model.hiddenSize;
  const k = moe.numExpertsPerTok;
  const sharedInter = moe.sharedExpertIntermediateSize ?? moe.numSharedExperts * moe.moeIntermediateSize;
  // Routed: each token's hidden state is copied to k experts (dispatch) and their outputs kept for the weighted
  // combine; the router's logits are softmaxed in fp32.
  const moeLayer =
    sb * (k * perToken(moe.moeIntermediateSize) + 2 * k * h * B + moe.numExperts * 4) + (sharedInter > 0 ? sb * perToken(sharedInter) : 0);
  const denseLayers = Math.min(moe.firstKDense, model.numLayers);
  return (denseLayers * dense + (model.numLayers - denseLayers) * moeLayer) / model.numLayers;
}

/** Stored per micro-batch outside the decoder layers: embedding dropout mask (first stage), final norm + LM-head inputs (last stage). */
export function extraActivations(model: ModelSpec, x: ActivationShape): { embedding: number; head: number } {
  const sbh = x.seqLen * x.microBatchSize * model.hiddenSize;
  const rep = x.sequenceParallel ? 1 / x.tp : 1;
  return {
    embedding: model.dropout > 0 ? sbh * rep : 0,
    head: 2 * sbh * x.actBytes * rep,
  };
}

/**
 * Korthikanti et al. 2022, Table 2: activation bytes per transformer layer for their GPT layer — the published
 * closed forms, kept to check `layerActivations` against (tests) and to show beside it.
 */
export function korthikantiPerLayer(
  p: { s: number; b: number; h: number; a: number; t: number },
  mode: "none" | "tp" | "tp-sp" | "tp-selective" | "tp-sp-selective" | "full",
): number {
  const { s, b, h, a, t } = p;
  const sbh = s * b * h;
  switch (mode) {
    case "none":
      return sbh * (34 + (5 * a * s) / h);
    case "tp":
      return sbh * (10 + 24 / t + (5 * a * s) / (h * t));
    case "tp-sp":
      return (sbh / t) * (34 + (5 * a * s) / h);
    case "tp-selective":
      return sbh * (10 + 24 / t);
    case "tp-sp-selective":
      return (sbh * 34) / t;
    case "full":
      return 2 * sbh;
  }
}

import { kvLayout } from "../model/kv.ts";
import { countParams } from "../model/params.ts";
import { weightBytes } from "../model/weights.ts";
import type { CostModelParams, ServingConfig } from "./types.ts";

/**
 * The step-time model's constants — all in one place, every one overridable (`costModel` in the config, or
 * `--calibrate` from a user's own measurements). Fitted to shared/vllm/perf-points.md:
 * - decode is weight streaming: rows 1 and 3 (Llama-3.1-8B batch 8 on H100 / A100) give ≈ 76% of HBM bandwidth and
 *   ≈ 1.9 ms fixed per step;
 * - TP adds two all-reduces per layer: 20 µs each puts rows 2 and 4 (70B TP4) at −1% and −11%;
 * - compute efficiency rises with the step's tokens: eff(T) = 0.25 + 0.6 / (1 + (6350 / T)^2.12) passes through
 *   0.30 at 2k tokens (row 6, a single 2k prefill) and 0.63 at 8k (row 7, Qwen2.5-72B 8k prefill), and stays near
 *   0.25 for decode batches, where weight streaming dominates anyway; fp8 GEMMs reach 0.76× that fraction of their
 *   doubled peak (row 5).
 * This is a roofline estimate, not a measurement: test/serving/cost-model.test.ts lists each row's error.
 */
export const DEFAULT_COST_MODEL: CostModelParams = {
  bandwidthEfficiency: 0.76,
  computeEfficiencyMin: 0.25,
  computeEfficiencyMax: 0.85,
  computeEfficiencyMidTokens: 6350,
  computeEfficiencyExponent: 2.12,
  lowPrecisionComputeScale: 0.76,
  stepOverheadS: 1.9e-3,
  allReduceLatencyS: 20e-6,
  allReduceEfficiency: 0.7,
};

/** One scheduled request's share of a step: new tokens and the context they attend over. */
export interface BatchItem {
  numTokens: number;
  numComputedBefore: number;
}

/** What the cost model needs about the model on one rank, computed once per run. */
export interface CostInputs {
  params: CostModelParams;
  tp: number;
  numLayers: number;
  hiddenSize: number;
  /** Query heads × head dim on one rank. */
  attnWidthPerRank: number;
  weightBytesPerRank: number;
  /** MoE: bytes of routed experts per rank, and routing shape; 0 for dense models. */
  expertBytesPerRank: number;
  numExperts: number;
  numExpertsPerTok: number;
  activeParamsPerRank: number;
  kvBytesPerTokenPerRank: number;
  /**
   * Sliding-window layers (gpt-oss, Gemma-2, Mistral-7B-v0.1): their share of the attention layers and their window.
   * A new token there reads and attends over at most `slidingWindow` keys, not its whole context. 0 / 0 without.
   */
  slidingLayerFraction: number;
  slidingWindow: number;
  hbmBandwidth: number;
  peakFlops: number;
  interconnectBandwidth: number;
}

export function costInputs(config: ServingConfig): CostInputs {
  const params = { ...DEFAULT_COST_MODEL, ...config.costModel };
  const tp = config.tensorParallelSize;
  const m = config.model;
  const w = weightBytes(m, { dtype: config.dtype, quantization: config.quantization, tensorParallelSize: tp });
  const p = countParams(m);
  const lowPrecision = config.quantization === "fp8" || config.quantization === "int8" || config.dtype === "fp8";
  const peak =
    lowPrecision && config.gpu.fp8Flops ? config.gpu.fp8Flops * params.lowPrecisionComputeScale : config.gpu.bf16Flops;
  const layout = kvLayout(m, { kvCacheDtype: config.kvCacheDtype, modelDtype: config.dtype, tensorParallelSize: tp });
  let expertBytes = 0;
  if (m.moe) {
    // routed experts' share of the MLP weights on this rank
    const routedParams = p.total - p.active;
    const routedFraction = routedParams / (1 - m.moe.numExpertsPerTok / m.moe.numExperts) / p.total;
    expertBytes = w.perRankBytes * Math.min(1, routedFraction);
  }
  return {
    params,
    tp,
    numLayers: m.numLayers,
    hiddenSize: m.hiddenSize,
    attnWidthPerRank: (m.numAttentionHeads / tp) * (m.mla ? m.mla.qkNopeHeadDim + m.mla.qkRopeHeadDim : m.headDim),
    weightBytesPerRank: w.perRankBytes,
    expertBytesPerRank: expertBytes,
    numExperts: m.moe?.numExperts ?? 0,
    numExpertsPerTok: m.moe?.numExpertsPerTok ?? 0,
    activeParamsPerRank: p.active / tp,
    kvBytesPerTokenPerRank: layout.bytesPerToken,
    slidingLayerFraction: layout.numSlidingLayers / layout.numAttentionLayers,
    slidingWindow: layout.numSlidingLayers > 0 ? (layout.slidingWindow ?? 0) : 0,
    hbmBandwidth: config.gpu.hbmBandwidth,
    peakFlops: peak,
    interconnectBandwidth: config.gpu.interconnectBandwidth,
  };
}

export interface StepCost {
  seconds: number;
  memorySeconds: number;
  computeSeconds: number;
  commSeconds: number;
}

/**
 * Seconds for one engine step: max(time to stream weights + every scheduled request's KV context, time for the
 * batch's FLOPs at the efficiency its size reaches) + TP all-reduces + a fixed overhead.
 */
export function stepCost(c: CostInputs, batch: readonly BatchItem[]): StepCost {
  const p = c.params;
  let T = 0;
  let kvTokensRead = 0;
  let attnFlops = 0;
  const W = c.slidingWindow;
  const fs = c.slidingLayerFraction;
  for (const b of batch) {
    T += b.numTokens;
    if (W > 0) {
      // QK^T and PV over the causal context: 4 · width · n · (ctx + (n+1)/2) per full layer
      const full = b.numTokens * (b.numComputedBefore + (b.numTokens + 1) / 2);
      // A sliding layer reads the keys of positions ctx − W + 1 … ctx + n − 1 and each new token attends over at
      // most W of them (the full-layer count when the whole context fits in the window).
      kvTokensRead += (1 - fs) * (b.numComputedBefore + b.numTokens) + fs * Math.min(b.numComputedBefore + b.numTokens, W + b.numTokens - 1);
      attnFlops += 4 * c.attnWidthPerRank * ((1 - fs) * full + fs * Math.min(full, slidingKeys(b.numComputedBefore, b.numTokens, W)));
    } else {
      kvTokensRead += b.numComputedBefore + b.numTokens;
      // QK^T and PV over the causal context: 4 · width · n · (ctx + (n+1)/2) per layer
      attnFlops += 4 * c.attnWidthPerRank * b.numTokens * (b.numComputedBefore + (b.numTokens + 1) / 2);
    }
  }
  if (T === 0) return { seconds: 0, memorySeconds: 0, computeSeconds: 0, commSeconds: 0 };
  let weightsRead = c.weightBytesPerRank;
  if (c.expertBytesPerRank > 0) {
    // distinct experts touched by T tokens each routed to k of E
    const touched = 1 - Math.pow(1 - c.numExpertsPerTok / c.numExperts, T);
    weightsRead = c.weightBytesPerRank - c.expertBytesPerRank * (1 - touched);
  }
  const memorySeconds = (weightsRead + kvTokensRead * c.kvBytesPerTokenPerRank) / (c.hbmBandwidth * p.bandwidthEfficiency);
  const flops = 2 * c.activeParamsPerRank * T + c.numLayers * attnFlops;
  const eff =
    p.computeEfficiencyMin +
    (p.computeEfficiencyMax - p.computeEfficiencyMin) / (1 + Math.pow(p.computeEfficiencyMidTokens / T, p.computeEfficiencyExponent));
  const computeSeconds = flops / (c.peakFlops * eff);
  let commSeconds = 0;
  if (c.tp > 1) {
    const bytes = 2 * c.numLayers * T * c.hiddenSize * 2 * ((2 * (c.tp - 1)) / c.tp);
    commSeconds = bytes / (c.interconnectBandwidth * p.allReduceEfficiency) + 2 * c.numLayers * p.allReduceLatencyS;
  }
  const seconds = Math.max(memorySeconds, computeSeconds) + commSeconds + p.stepOverheadS;
  return { seconds, memorySeconds, computeSeconds, commSeconds };
}

/** Σ over the n new tokens at positions ctx … ctx + n − 1 of the keys each attends to in a W-token window. */
export function slidingKeys(ctx: number, n: number, W: number): number {
  const a = ctx + 1; // keys of the first new token before the cap
  if (a >= W) return n * W;
  const k = Math.min(n, W - a); // tokens still below the cap: a, a + 1, …, a + k − 1
  return k * a + (k * (k - 1)) / 2 + (n - k) * W;
}

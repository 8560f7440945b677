import type { ModelSpec } from "../model/types.ts";
import { GiB } from "../units.ts";

/**
 * The activation peak of vLLM's profile run and the non-torch memory it measures, per GPU.
 *
 * vLLM measures these (`Worker.determine_available_memory` runs a dummy forward of max_num_batched_tokens tokens,
 * then a sampler run over min(max_num_seqs, max_num_batched_tokens) sequences); there is no closed form in vLLM. We
 * model the two terms that scale — per-token transients of the widest layer, and the sampler's fp32 logits and their
 * copies — with coefficients least-squares fitted to three published logs (shared/vllm/kv-cache-log-points.md):
 *   row 1 (V0, Llama-3.1-8B, 20,000-token profile): peak 2.40 GiB after weights and non-torch;
 *   row 2 (V0, Qwen2.5-Math-1.5B, 4,096 tokens): "PyTorch activation peak memory takes 1.40GiB";
 *   row 6 (V1 v0.15, Llama-8B fine-tune, 2,048 tokens, 47.54 GiB card): 1.32 GiB.
 * The fit lands each of them within 0.5% of its KV size (test/serving/capacity-log-points.test.ts). Row 5 (an int8
 * w8a8 70B on early V1) sits 0.9 GiB above this model; see that test for the discussion.
 */
export const ACTIVATION_COEFFICIENTS = {
  /** Bytes per token per hidden element (residual, norm output, attention output, q/k/v in flight). */
  perTokenPerHidden: 3.04,
  /** Bytes per token per MLP intermediate element on one rank (gate+up output in bf16: 2 × 2 B). */
  perTokenPerIntermediate: 4,
  /** Bytes per logit element of the sampler run (fp32 logits, probs, sort values/indices, logprobs). */
  perLogit: 36.1,
};

/** Non-torch memory vLLM measures after its init snapshot: cuBLAS workspaces; with TP, custom all-reduce buffers. */
export const NON_TORCH_BYTES = { tp1: 0.05 * GiB, tpN: 0.25 * GiB };

/** Rough CUDA-graph capture size, not subtracted from the KV budget in 2025 vLLM (captured after sizing). */
export const CUDA_GRAPH_BYTES = 0.55 * GiB;

export function activationPeakBytes(
  model: ModelSpec,
  opts: { maxNumBatchedTokens: number; maxNumSeqs: number; tensorParallelSize: number },
): number {
  const tp = opts.tensorParallelSize;
  const T = opts.maxNumBatchedTokens;
  let inter = model.intermediateSize;
  if (model.moe) {
    const routed = model.moe.moeIntermediateSize * model.moe.numExpertsPerTok;
    const shared = model.moe.moeIntermediateSize * model.moe.numSharedExperts;
    inter = Math.max(model.moe.firstKDense > 0 ? model.intermediateSize : 0, routed + shared);
  }
  const c = ACTIVATION_COEFFICIENTS;
  const perToken = c.perTokenPerHidden * model.hiddenSize + (c.perTokenPerIntermediate * inter) / tp;
  const samplerSeqs = Math.min(opts.maxNumSeqs, T);
  return Math.round(T * perToken + c.perLogit * samplerSeqs * model.vocabSize);
}

export function nonTorchBytes(tensorParallelSize: number): number {
  return tensorParallelSize > 1 ? NON_TORCH_BYTES.tpN : NON_TORCH_BYTES.tp1;
}

import { countParams } from "../model/params.ts";
import type { ModelSpec } from "../model/types.ts";

/**
 * A frozen role's memory on one GPU: its bf16 weights under the trainer's sharding, and the transient of one
 * no-grad forward pass (the reference's per-token log-probs, the reward model's score, a CAI critic's judgement).
 *
 * Frozen copies are prepared by the same DeepSpeed/FSDP engine as the trained model in evaluation mode (TRL
 * `_prepare_deepspeed`, verl's ref worker), so under ZeRO-3/FSDP their weights are split over the data-parallel
 * ranks and one layer is gathered at a time; under ZeRO-0/1/2 every rank holds a full (TP-split) copy.
 *
 * The forward transient is what a no-grad pass keeps alive at its widest point: the residual stream plus the wider
 * of the attention block (normed input, q, k, v, output; flash attention, so no a·s² scores) and the MLP block
 * (normed input, gate, up, act(gate)·up — or fc1 out and its activation for a plain MLP), all bf16. A language-model
 * head then produces logits only for the response tokens (TRL's `logits_to_keep`), bf16 plus one fp32 upcast for the
 * log-softmax (6 B per element); a reward or value model has a 1-wide score head instead (fp32 per token).
 */
export interface FrozenSharding {
  /** Data-parallel ranks the weights are split over under ZeRO-3/FSDP. */
  dataParallel: number;
  zeroStage: 0 | 1 | 2 | 3;
  tensorParallel: number;
}

export type FrozenHead = "lm" | "score";

export interface FrozenForward {
  microBatchSize: number;
  /** Tokens per sequence fed to the model (prompt + response). */
  seqLen: number;
  /** Tokens whose logits are materialised (the response). */
  logitsTokens: number;
}

export interface FrozenRoleMemory {
  paramCount: number;
  /** Resident bf16 weights per GPU. */
  weightsBytes: number;
  /** ZeRO-3: one layer's full bf16 params gathered during the forward (0 otherwise). */
  gatheredBytes: number;
  activationsBytes: number;
  logitsBytes: number;
  /** weights + gathered + activations + logits. */
  peakBytes: number;
}

const BF16 = 2;

/** Parameters of the model with its LM head swapped for a 1-wide score head (HF `AutoModelForSequenceClassification`). */
export function scoreHeadParams(spec: ModelSpec): number {
  const p = countParams(spec);
  return p.total - p.lmHead + spec.hiddenSize;
}

export function frozenRoleMemory(spec: ModelSpec, head: FrozenHead, shard: FrozenSharding, fwd: FrozenForward): FrozenRoleMemory {
  const pc = countParams(spec);
  const paramCount = head === "lm" ? pc.total : scoreHeadParams(spec);
  const t = shard.tensorParallel;
  const split = t * (shard.zeroStage === 3 ? shard.dataParallel : 1);
  const weightsBytes = Math.ceil((paramCount * BF16) / split);
  const gatheredBytes = shard.zeroStage === 3 && shard.dataParallel > 1 ? Math.ceil((pc.perLayer * BF16) / t) : 0;
  const activationsBytes = forwardActivationBytes(spec, fwd.microBatchSize * fwd.seqLen, t);
  const logitsBytes =
    head === "lm"
      ? fwd.microBatchSize * fwd.logitsTokens * Math.ceil(spec.vocabSize / t) * (BF16 + 4)
      : fwd.microBatchSize * fwd.seqLen * 4;
  return { paramCount, weightsBytes, gatheredBytes, activationsBytes, logitsBytes, peakBytes: weightsBytes + gatheredBytes + activationsBytes + logitsBytes };
}

/** Widest live set of a no-grad forward over `tokens` tokens, bf16, tensor-parallel split `t` (see the file comment). */
export function forwardActivationBytes(spec: ModelSpec, tokens: number, t: number): number {
  const h = spec.hiddenSize;
  const q = (spec.numAttentionHeads * spec.headDim) / t;
  // KV heads are replicated when TP exceeds them (one head per rank), as in the serving engine.
  const kv = Math.max(1, spec.numKvHeads / t) * spec.headDim;
  const attention = h + q + 2 * kv + q;
  const inter = (spec.moe ? spec.moe.moeIntermediateSize * spec.moe.numExpertsPerTok : spec.intermediateSize) / t;
  const mlp = h + (spec.gatedMlp ? 3 * inter : 2 * inter);
  return Math.ceil(tokens * (h + Math.max(attention, mlp)) * BF16);
}

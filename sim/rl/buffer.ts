/**
 * The rollout buffer: what an iteration keeps between generate, score and train, per sequence. Field names follow
 * verl's `DataProto` batch keys (`input_ids`, `attention_mask`, `position_ids`, `responses`, `old_log_probs`,
 * `ref_log_prob`, `values`, `token_level_rewards`, `advantages`, `returns`); token tensors are int64 as torch keeps
 * token ids, per-token floats are fp32.
 *
 * It is small next to the models: 1,024 sequences of 1,024 + 1,024 tokens hold 3 × 8 B × 2,048 × 1,024 = 48 MiB of
 * ids and masks. The article's "another 20-30 GB" of rollout buffers only appears if full-vocabulary logits were
 * kept, which no library does (they keep per-token log-probs); the logits spike is transient, inside the score and
 * train passes (`inference.ts`, the training model).
 */
export interface RolloutBufferShape {
  /** Sequences in the iteration (prompts × completions; DPO: pairs × 2). */
  numSequences: number;
  promptLen: number;
  responseLen: number;
  /** A reference model's per-token log-probs are kept (PPO, GRPO with β > 0, DPO without precomputed log-probs). */
  refLogProbs: boolean;
  /** A critic's per-token values and returns are kept (PPO). */
  values: boolean;
  /** Old-policy log-probs, rewards and advantages are kept (on-line algorithms; DPO keeps only the reference's log-probs). */
  online: boolean;
}

export interface RolloutBufferBytes {
  /** Bytes per tensor name, for the whole iteration (divide by data-parallel ranks for one GPU's share). */
  terms: Record<string, number>;
  total: number;
}

const INT64 = 8;
const FP32 = 4;

export function rolloutBufferBytes(shape: RolloutBufferShape): RolloutBufferBytes {
  const n = shape.numSequences;
  const seq = shape.promptLen + shape.responseLen;
  const r = shape.responseLen;
  const terms: Record<string, number> = {
    input_ids: n * seq * INT64,
    attention_mask: n * seq * INT64,
    position_ids: n * seq * INT64,
    responses: n * r * INT64,
  };
  if (shape.online) terms.old_log_probs = n * r * FP32;
  if (shape.refLogProbs) terms.ref_log_prob = n * r * FP32;
  if (shape.online) {
    terms.token_level_rewards = n * r * FP32;
    terms.advantages = n * r * FP32;
  }
  if (shape.values) {
    terms.values = n * r * FP32;
    terms.returns = n * r * FP32;
  }
  const total = Object.values(terms).reduce((s, v) => s + v, 0);
  return { terms, total };
}

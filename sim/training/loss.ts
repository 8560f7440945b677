import type { LossImpl } from "./types.ts";

/**
 * The logits spike of the last pipeline stage, bytes on one TP rank, for one micro-batch of `tokens` tokens.
 *
 * PyTorch eager cross-entropy after HF's `logits.float()` (the "standard" loss), per N·V logit elements:
 *   logits in the activation dtype (B), kept by the caller through backward;
 *   forward: fp32 upcast (4, none when B is already 4) + softmax temporary (4) + log-softmax output (4, saved);
 *   backward: the saved log-softmax (4) + its gradient (4) + the logits' fp32 gradient (4) + its cast to B.
 * For bf16 this is 12·N·V in forward and 14·N·V in backward on top of the logits — apple/ml-cross-entropy's
 * measured baseline (A100, N = 8192, V = 256000): loss-fw 24000 MB, loss-fw-bw 28000 MB (ground truth §4c).
 *
 * "chunked" (torchtune's CEWithChunkedOutputLoss): full logits, upcast and softmax one chunk at a time; every
 * chunk's log-softmax is still saved for backward, so only the temporaries shrink.
 * "fused" (Cut Cross-Entropy, Liger's fused linear CE): logits never materialised; the MB-scale remainder is ignored.
 */
export interface LossMemory {
  /** The logits tensor, held from the LM head's forward to the end of the loss backward. */
  logits: number;
  /** Extra bytes at the loss forward's peak. */
  forwardExtra: number;
  /** Held between the loss forward and its backward (the saved log-softmax). */
  heldForBackward: number;
  /** Extra bytes at the loss backward's peak. */
  backwardExtra: number;
  /** logits + max(forwardExtra, backwardExtra). */
  peak: number;
}

export function lossMemory(tokens: number, vocabPerRank: number, actBytes: number, impl: LossImpl, chunks = 8): LossMemory {
  if (impl === "fused" || tokens === 0 || vocabPerRank === 0)
    return { logits: 0, forwardExtra: 0, heldForBackward: 0, backwardExtra: 0, peak: 0 };
  const logits = tokens * vocabPerRank * actBytes;
  const n = impl === "chunked" ? Math.ceil(tokens / chunks) : tokens;
  const nv = n * vocabPerRank;
  const heldForBackward = 4 * tokens * vocabPerRank;
  const upcast = actBytes < 4 ? 4 * nv : 0;
  const forwardExtra = heldForBackward + upcast + 4 * nv;
  const backwardExtra = heldForBackward + 4 * nv + 4 * nv + (actBytes < 4 ? actBytes * nv : 0);
  return { logits, forwardExtra, heldForBackward, backwardExtra, peak: logits + Math.max(forwardExtra, backwardExtra) };
}

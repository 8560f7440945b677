import { describe, expect, it } from "vitest";
import { resolveModel } from "../../sim/model/registry.ts";
import { frozenRoleMemory, scoreHeadParams } from "../../sim/rl/inference.ts";

const llama = resolveModel("meta-llama/Llama-3.1-8B-Instruct");

describe("frozen role memory (reference / reward / critics)", () => {
  it("Llama-3.1-8B reference under ZeRO-3 over 8 GPUs, micro-batch 4, 512 + 512 tokens", () => {
    // Params 8,030,261,248 (HF). Weights 8,030,261,248 × 2 B / 8 = 2,007,565,312.
    // One layer gathered: q 4096² + k,v 2 × 1024 × 4096 + o 4096² + MLP 3 × 4096 × 14336 + 2 norms × 4096
    //   = 41,943,040 + 176,160,768 + 8,192 = 218,112,000 params × 2 B = 436,224,000.
    // Forward live set per token: residual 4096 + max(attn 4096 + 4096 + 2·1024 + 4096 = 14,336,
    //   MLP 4096 + 3 × 14,336 = 47,104) = 51,200 × 2 B × 4 × 1024 tokens = 419,430,400.
    // Logits on the 512 response tokens: 4 × 512 × 128,256 × (2 + 4) B = 1,576,009,728.
    const m = frozenRoleMemory(llama, "lm", { dataParallel: 8, zeroStage: 3, tensorParallel: 1 }, { microBatchSize: 4, seqLen: 1024, logitsTokens: 512 });
    expect(m.weightsBytes).toBe(2_007_565_312);
    expect(m.gatheredBytes).toBe(436_224_000);
    expect(m.activationsBytes).toBe(419_430_400);
    expect(m.logitsBytes).toBe(1_576_009_728);
    expect(m.peakBytes).toBe(4_439_229_440);
  });
  it("a reward model swaps the 128,256 × 4096 LM head for a 4096 × 1 score head and keeps full weights under ZeRO-2", () => {
    // 8,030,261,248 − 525,336,576 + 4,096 = 7,504,928,768 params; × 2 B = 15,009,857,536 on every rank.
    expect(scoreHeadParams(llama)).toBe(7_504_928_768);
    const m = frozenRoleMemory(llama, "score", { dataParallel: 8, zeroStage: 2, tensorParallel: 1 }, { microBatchSize: 4, seqLen: 1024, logitsTokens: 512 });
    expect(m.weightsBytes).toBe(15_009_857_536);
    expect(m.gatheredBytes).toBe(0);
    expect(m.logitsBytes).toBe(4 * 1024 * 4); // one fp32 score per token
  });
});

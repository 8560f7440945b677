import { describe, expect, it } from "vitest";
import { GiB } from "../../sim/units.ts";
import { countParams } from "../../sim/model/params.ts";
import { modelFromConfig, resolveModel } from "../../sim/model/registry.ts";
import { dtypeBytes, weightBytes } from "../../sim/model/weights.ts";
import type { Quantization, WeightDtype } from "../../sim/model/types.ts";

const wb = (name: string, quantization: Quantization = "none", tp = 1, dtype: WeightDtype = "bfloat16") =>
  weightBytes(resolveModel(name), { dtype, quantization, tensorParallelSize: tp });

describe("dtypeBytes", () => {
  it("maps vLLM/HF dtype names to element sizes", () => {
    expect([dtypeBytes("float32"), dtypeBytes("bfloat16"), dtypeBytes("float16"), dtypeBytes("fp8"), dtypeBytes("int8"), dtypeBytes("int4")]).toEqual([
      4, 2, 2, 1, 1, 0.5,
    ]);
    expect(() => dtypeBytes("bfloat61")).toThrow(/unknown dtype "bfloat61"; did you mean .*bfloat16/);
  });
});

describe("weightBytes: unquantized", () => {
  it("Llama-3.1-8B bf16 = 2 × 8,030,261,248 B exactly", () => {
    const w = wb("meta-llama/Llama-3.1-8B-Instruct");
    expect(w.totalBytes).toBe(2 * 8_030_261_248);
    expect(w.perRankBytes).toBe(w.totalBytes);
    expect(Object.values(w.breakdown).reduce((a, b) => a + b)).toBe(w.perRankBytes);
  });
  it("matches vLLM's measured load: Qwen2.5-Math-1.5B 'model weights take 2.88GiB' (kv-cache-log-points #2)", () => {
    // 1,543,714,304 params × 2 B = 3,087,428,608 B = 2.875 GiB.
    expect((wb("Qwen/Qwen2.5-Math-1.5B").perRankBytes / GiB).toFixed(2)).toBe("2.88");
  });
  it("is within 0.3% of vLLM's 'Model loading took 14.99 GiB' for a Llama-3 8B (kv-cache-log-points #6)", () => {
    // 16,060,522,496 B = 14.957 GiB; vLLM measures the allocator delta, slightly above the tensors.
    expect(Math.abs(wb("meta-llama/Llama-3.1-8B-Instruct").perRankBytes / GiB / 14.99 - 1)).toBeLessThan(0.003);
  });
  it("Qwen3-30B-A3B bf16 is within 0.1% of vLLM's 'Loading model weights took 56.9001 GB' (vllm-ascend run, 1 NPU)", () => {
    // Qwen3-30B-A3B config.json shapes; HF card: 30.5B total, 3.3B activated. By hand: embed + lm_head
    // 2 × 151936×2048 = 622,329,856; attention 48 × (2×2048×4096 + 2×2048×512) = 905,969,664; experts
    // 48 × 128 × 3×2048×768 = 28,991,029,248 + router 48 × 128×2048 = 12,582,912; norms 48 × (2×2048 + 2×128)
    // + 2048 = 210,944 → 30,532,122,624 params × 2 B = 56.87 GiB.
    const spec = modelFromConfig("Qwen/Qwen3-30B-A3B", {
      model_type: "qwen3_moe", hidden_size: 2048, num_hidden_layers: 48, num_attention_heads: 32, num_key_value_heads: 4,
      head_dim: 128, intermediate_size: 6144, moe_intermediate_size: 768, num_experts: 128, num_experts_per_tok: 8,
      vocab_size: 151936, max_position_embeddings: 40960, tie_word_embeddings: false,
    });
    expect(countParams(spec).total).toBe(30_532_122_624);
    const w = weightBytes(spec, { dtype: "bfloat16", quantization: "none", tensorParallelSize: 1 });
    expect(Math.abs(w.perRankBytes / GiB / 56.9001 - 1)).toBeLessThan(0.001);
  });
  it("TP=2 per rank on Llama-3.1-8B = 8,030,527,488 B (by hand)", () => {
    // Per rank, bf16: embedding 128256/2 × 4096 × 2 = 525,336,576 and the same for lm_head; attention 32 layers ×
    // (q 2048×4096 + k 512×4096 + v 512×4096 + o 4096×2048) × 2 B = 1,342,177,280; MLP 32 × 3 × 7168×4096 × 2 B
    // = 5,637,144,576; norms replicated 65 × 4096 × 2 B = 532,480. Sum 8,030,527,488 (half of the total + half the norms).
    const w = wb("meta-llama/Llama-3.1-8B-Instruct", "none", 2);
    expect(w.breakdown).toMatchObject({
      embedding: 525_336_576,
      lmHead: 525_336_576,
      attention: 1_342_177_280,
      mlp: 5_637_144_576,
      norms: 532_480,
    });
    expect(w.perRankBytes).toBe(8_030_527_488);
    expect(w.totalBytes).toBe(16_060_522_496);
  });
  it("TP beyond the KV heads replicates k/v: Llama-3-8B TP 16 per rank k/v = 1 head", () => {
    // attention per rank: 32 × (q 256×4096 + k 128×4096 + v 128×4096 + o 4096×256) × 2 B = 201,326,592.
    expect(wb("meta-llama/Meta-Llama-3-8B", "none", 16).breakdown.attention).toBe(201_326_592);
  });
  it("vocab is padded to a multiple of 64 per rank (vLLM VocabParallelEmbedding): GPT-2 50257 → 50304", () => {
    const spec = resolveModel("meta-llama/Llama-2-7b-hf");
    const gpt2 = { ...spec, vocabSize: 50257 };
    const w = weightBytes(gpt2, { dtype: "float16", quantization: "none", tensorParallelSize: 1 });
    expect(w.breakdown.embedding).toBe(50304 * 4096 * 2);
    expect(w.totalBreakdown.embedding).toBe(50257 * 4096 * 2);
  });
});

describe("weightBytes: quantized", () => {
  it("int4-awq Llama-3.1-8B = 5,727,854,592 B (by hand)", () => {
    // Linear weights at 0.5 B: attention 1,342,177,280 params → 671,088,640 B; MLP 5,637,144,576 → 2,818,572,288 B.
    // Group metadata per linear = groups(in/128) × out × (2 B fp16 scale + 0.5 B packed zero):
    //   q 32×4096×2.5 = 327,680; k,v 32×1024×2.5 = 81,920 each; o 327,680; gate,up 32×14336×2.5 = 1,146,880 each;
    //   down 112×4096×2.5 = 1,146,880 → 4,259,840 per layer × 32 = 136,314,880.
    // Embedding and lm_head stay bf16: 2 × 1,050,673,152; norms bf16 532,480.
    const w = wb("meta-llama/Llama-3.1-8B-Instruct", "int4-awq");
    expect(w.breakdown.quantScales).toBe(136_314_880);
    expect(w.breakdown.attention).toBe(671_088_640);
    expect(w.breakdown.mlp).toBe(2_818_572_288);
    expect(w.totalBytes).toBe(5_727_854_592);
  });
  it("gptq adds g_idx (one int32 per input channel) to the AWQ figure", () => {
    // g_idx per layer: q,k,v,gate,up read 4096 inputs, o 4096, down 14336 → (6×4096 + 14336) × 4 B = 155,648; × 32.
    const awq = wb("meta-llama/Llama-3.1-8B-Instruct", "int4-awq").totalBytes;
    expect(wb("meta-llama/Llama-3.1-8B-Instruct", "gptq").totalBytes - awq).toBe(32 * 155_648);
  });
  it("int8 w8a8 Llama-3.1-70B is within 0.1% of vLLM's 'Loading model weights took 67.7229 GB' (log point #5)", () => {
    // By hand: linears 68,451,041,280 params × 1 B; per-channel fp32 scales 80 × (8192+1024+1024+8192+28672+28672
    // +8192) × 4 B = 26,869,760; embedding + lm_head bf16 4,202,692,608; norms bf16 2,637,824 → 72,683,241,472 B
    // = 67.69 GiB.
    const w = wb("meta-llama/Llama-3.1-70B-Instruct", "int8");
    expect(w.totalBytes).toBe(72_683_241_472);
    expect(Math.abs(w.totalBytes / GiB / 67.7229 - 1)).toBeLessThan(0.001);
  });
  it("fp8: 1 B per linear weight + one fp32 scale per matrix; embeddings stay bf16", () => {
    // Llama-3.1-8B: linears 6,979,321,856 B + 7 matrices × 32 layers × 4 B = 896; embeddings 2,101,346,304; norms 532,480.
    const w = wb("meta-llama/Llama-3.1-8B-Instruct", "fp8");
    expect(w.breakdown.quantScales).toBe(896);
    expect(w.totalBytes).toBe(6_979_321_856 + 896 + 2_101_346_304 + 532_480);
  });
  it("MoE experts are quantized and split by TP; the router stays whole in bf16", () => {
    // Mixtral experts: 32 × 8 × 3 × 4096 × 14336 params = 45,097,156,608; int8 → 1 B each + per-channel scales.
    const w1 = wb("mistralai/Mixtral-8x7B-v0.1", "int8");
    const w2 = wb("mistralai/Mixtral-8x7B-v0.1", "int8", 2);
    // router 32 × 8 × 4096 × 2 B = 2,097,152 on every rank; MLP scales ride in quantScales.
    expect(w1.breakdown.mlp).toBe(45_097_156_608 + 2_097_152);
    expect(w2.breakdown.mlp).toBe(45_097_156_608 / 2 + 2_097_152);
  });
  it("rejects an unknown --quantization naming the flag", () => {
    expect(() => wb("meta-llama/Llama-3.1-8B-Instruct", "awq" as Quantization)).toThrow(/--quantization "awq"; did you mean/);
  });
});

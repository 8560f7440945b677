import { describe, expect, it } from "vitest";
import { countParams } from "../../sim/model/params.ts";
import { modelFromConfig, resolveModel } from "../../sim/model/registry.ts";

// Expected totals are HF `model.num_parameters()` figures quoted in presets.json's `_note` (from the models' HF
// pages / safetensors metadata), or worked by hand from the config where a comment shows the arithmetic.
const total = (name: string) => countParams(resolveModel(name)).total;

describe("countParams: HF parameter counts", () => {
  it("Llama-2-7B = 6,738,415,616 (presets.json _note)", () => {
    expect(total("meta-llama/Llama-2-7b-hf")).toBe(6_738_415_616);
  });
  it("Meta-Llama-3-8B = 8,030,261,248 (presets.json _note); Llama-3.1-8B has the same shapes", () => {
    expect(total("meta-llama/Meta-Llama-3-8B")).toBe(8_030_261_248);
    expect(total("meta-llama/Llama-3.1-8B-Instruct")).toBe(8_030_261_248);
  });
  it("Mistral-7B-v0.1 = 7,241,732,096 (presets.json _note)", () => {
    expect(total("mistralai/Mistral-7B-v0.1")).toBe(7_241_732_096);
  });
  it("Qwen2.5-7B = 7,615,616,512 with q/k/v biases (presets.json _note)", () => {
    expect(total("Qwen/Qwen2.5-7B-Instruct")).toBe(7_615_616_512);
  });
  it("gemma-2-9b = 9,241,705,984 with 4 norms per layer and tied embeddings (presets.json _note)", () => {
    expect(total("google/gemma-2-9b")).toBe(9_241_705_984);
  });
  it("Phi-3-mini = 3,821,079,552 (presets.json _note)", () => {
    expect(total("microsoft/Phi-3-mini-4k-instruct")).toBe(3_821_079_552);
  });
  it("Mixtral-8x7B = 46,702,792,704 (presets.json _note)", () => {
    expect(total("mistralai/Mixtral-8x7B-v0.1")).toBe(46_702_792_704);
  });
  it("GPT-2 small = 124,439,808 (HF gpt2 model card '124M'; exact figure from num_parameters())", () => {
    // By hand: wte 50257×768 = 38,597,376; wpe 1024×768 = 786,432; per layer: ln_1 1,536 + c_attn 768×2304+2304
    // + attn c_proj 768×768+768 + ln_2 1,536 + c_fc 768×3072+3072 + mlp c_proj 3072×768+768 = 7,087,872;
    // ×12 = 85,054,464; ln_f 1,536. Sum 124,439,808 (lm_head tied to wte).
    const spec = modelFromConfig("gpt2", { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 });
    const p = countParams(spec);
    expect(p.total).toBe(124_439_808);
    expect(p.lmHead).toBe(0);
    expect(p.embedding).toBe(38_597_376 + 786_432);
    expect(p.perLayer).toBe(7_087_872);
  });
  it("Qwen3-8B = 8,190,735,360 including per-head q/k norms", () => {
    // By hand: embed + lm_head 2 × 151936×4096 = 1,244,659,712; per layer q 4096×4096 + k,v 2×(1024×4096)
    // + o 4096×4096 = 41,943,040; MLP 3×4096×12288 = 150,994,944; norms 2×4096 + q/k norm 2×128 = 8,448;
    // = 192,946,432 × 36 = 6,946,071,552; final norm 4,096. Total 8,190,735,360 (HF card: "8.2B").
    expect(total("Qwen/Qwen3-8B")).toBe(8_190_735_360);
  });
  it("gpt-oss-120b = 116,829,156,672 (OpenAI model card: 116.83B total)", () => {
    // By hand: embed + unembed 2 × 201088×2880 = 1,158,266,880; attention per layer q/o 2×(2880×4096), k/v
    // 2×(2880×512), biases 4096+2×512+2880, sinks 64 → ×36 = 955,805,184; MoE per layer 128 experts ×
    // (3×2880×2880 + biases 2×2880 + 2880) + router 128×2880 + 128 → ×36 = 114,714,874,368; norms 73×2880 = 210,240.
    expect(total("openai/gpt-oss-120b")).toBe(116_829_156_672);
  });
  it("DeepSeek-V3 = 671,026,419,200 for the main model, MTP layer not counted (HF: 671B + 14B MTP)", () => {
    // By hand: embed + lm_head 2 × 129280×7168 = 1,853,358,080. MLA per layer: q_a 7168×1536 = 11,010,048,
    // q_b 1536×128×192 = 37,748,736, kv_a 7168×576 = 4,128,768, kv_b 512×128×256 = 16,777,216,
    // o 128×128×7168 = 117,440,512 → 187,105,280 × 61 = 11,413,422,080. Norms (2×7168 + 1536 + 512) × 61
    // + 7168 = 1,006,592. Dense MLP 3 × 3×7168×18432 = 1,189,085,184. MoE 58 × (256 experts × 3×7168×2048
    // + 1 shared 44,040,192 + router 256×7168 + 256 bias) = 656,569,547,264.
    const spec = resolveModel("deepseek-ai/DeepSeek-V3");
    expect(countParams(spec).total).toBe(671_026_419_200);
    expect(spec.numMtpLayers).toBe(1);
  });
});

describe("countParams: parts and active parameters", () => {
  it("splits Llama-3-8B into embedding, lm_head, attention, MLP, norms", () => {
    // 128256×4096 = 525,336,576 each for embedding and lm_head; attention 32 × 41,943,040 = 1,342,177,280 (GQA:
    // k/v are 8 heads × 128 = 1024 wide); MLP 32 × 3×4096×14336 = 5,637,144,576; norms 65 × 4096 = 266,240.
    const p = countParams(resolveModel("meta-llama/Meta-Llama-3-8B"));
    expect(p).toMatchObject({
      embedding: 525_336_576,
      lmHead: 525_336_576,
      attention: 1_342_177_280,
      mlp: 5_637_144_576,
      norms: 266_240,
    });
    expect(p.active).toBe(p.total);
  });
  it("Mixtral-8x7B active = 12,879,925,248 (2 of 8 experts; Mistral: '12.9B active')", () => {
    // total − 6 unused experts × 32 layers × 3×4096×14336 = 46,702,792,704 − 33,822,867,456.
    expect(countParams(resolveModel("mistralai/Mixtral-8x7B-v0.1")).active).toBe(12_879_925_248);
  });
  it("Qwen3-235B-A22B: 235B total, 22B active (HF model card, rounded to the billion)", () => {
    const p = countParams(resolveModel("Qwen/Qwen3-235B-A22B"));
    expect(Math.round(p.total / 1e9)).toBe(235);
    expect(Math.round(p.active / 1e9)).toBe(22);
  });
  it("DeepSeek-V3: ~37B active (DeepSeek-V3 paper: 37B activated per token)", () => {
    const p = countParams(resolveModel("deepseek-ai/DeepSeek-V3"));
    expect(p.active / 1e9).toBeGreaterThan(37);
    expect(p.active / 1e9).toBeLessThan(38);
  });
});

import { describe, expect, it } from "vitest";
import { kvLayout, pageSizeBytes, slidingWindowMaxTokensPerRequest, validateTensorParallel } from "../../sim/model/kv.ts";
import { listModels, modelFromConfig, resolveModel } from "../../sim/model/registry.ts";
import type { KvCacheDtype } from "../../sim/model/types.ts";

const kv = (name: string, tp = 1, kvCacheDtype: KvCacheDtype = "auto") =>
  kvLayout(resolveModel(name), { kvCacheDtype, modelDtype: "bfloat16", tensorParallelSize: tp });

describe("kvLayout: bytes per token (vLLM AttentionSpec page size / block_size)", () => {
  it("Llama-3.1-8B bf16 = 131,072 B: 32 layers × 2 × 8 KV heads × 128 × 2 B (vllm #10517: 128 KiB/token)", () => {
    const l = kv("meta-llama/Llama-3.1-8B-Instruct");
    expect(l.bytesPerToken).toBe(131_072);
    expect(l.bytesPerTokenPerLayer).toBe(4_096);
    expect(l.kvHeadsPerRank).toBe(8);
    // 16-token block of one layer: 2 × 16 × 8 × 128 × 2 = 65,536 B; × 32 layers = 2 MiB per block (the log's note).
    expect(pageSizeBytes(l, 16)).toBe(65_536);
  });
  it("Qwen2.5-Math-1.5B = 28,672 B: 28 × 2 × 2 × 128 × 2 (kv-cache-log-points #2: 28 KiB/token)", () => {
    expect(kv("Qwen/Qwen2.5-Math-1.5B").bytesPerToken).toBe(28_672);
  });
  it("Qwen3-14B = 163,840 B: 40 × 2 × 8 × 128 × 2 (kv-cache-log-points #4: 160 KiB/token)", () => {
    expect(kv("Qwen/Qwen3-14B").bytesPerToken).toBe(163_840);
  });
  it("Llama-3.1-70B = 327,680 B: 80 × 2 × 8 × 128 × 2 (kv-cache-log-points #5: 320 KiB/token)", () => {
    expect(kv("meta-llama/Llama-3.1-70B-Instruct").bytesPerToken).toBe(327_680);
  });
  it("DeepSeek-V3 MLA = 61 × 576 × 2 = 70,272 B, one latent (no factor 2), unchanged under TP 8", () => {
    const one = kv("deepseek-ai/DeepSeek-V3");
    expect(one.isMla).toBe(true);
    expect(one.headSize).toBe(576); // kv_lora_rank 512 + qk_rope_head_dim 64
    expect(one.bytesPerTokenPerLayer).toBe(1_152);
    expect(one.bytesPerToken).toBe(70_272);
    expect(kv("deepseek-ai/DeepSeek-V3", 8).bytesPerToken).toBe(70_272);
  });
  it("--kv-cache-dtype fp8 (and fp8_e4m3/e5m2) halves the bf16 figure", () => {
    for (const d of ["fp8", "fp8_e4m3", "fp8_e5m2"] as const)
      expect(kv("meta-llama/Llama-3.1-8B-Instruct", 1, d).bytesPerToken).toBe(65_536);
    expect(kv("deepseek-ai/DeepSeek-V3", 1, "fp8").bytesPerToken).toBe(35_136); // 61 × 576 × 1
  });
  it("auto follows the model dtype: float32 doubles it, float16 equals bf16", () => {
    const spec = resolveModel("meta-llama/Llama-3.1-8B-Instruct");
    expect(kvLayout(spec, { kvCacheDtype: "auto", modelDtype: "float32", tensorParallelSize: 1 }).bytesPerToken).toBe(262_144);
    expect(kvLayout(spec, { kvCacheDtype: "auto", modelDtype: "float16", tensorParallelSize: 1 }).bytesPerToken).toBe(131_072);
  });
});

describe("kvLayout under tensor parallelism", () => {
  it("TP=2 on Llama-3-8B halves the per-rank figure (4 KV heads per rank)", () => {
    const l = kv("meta-llama/Meta-Llama-3-8B", 2);
    expect(l.kvHeadsPerRank).toBe(4);
    expect(l.bytesPerToken).toBe(65_536);
  });
  it("TP=16 on 8 KV heads replicates: 1 head per rank, 32 × 2 × 1 × 128 × 2 = 16,384 B", () => {
    // Llama-3-8B has 32 query heads, so TP 16 is legal for the query split; KV heads are replicated twice.
    const l = kv("meta-llama/Meta-Llama-3-8B", 16);
    expect(l.kvHeadsPerRank).toBe(1);
    expect(l.bytesPerToken).toBe(16_384);
  });
  it("rejects a TP that does not divide the heads, naming --tensor-parallel-size", () => {
    const spec = resolveModel("Qwen/Qwen2.5-7B-Instruct"); // 28 heads, 4 KV heads
    expect(() => validateTensorParallel(spec, 3)).toThrow(/--tensor-parallel-size 3.*28/);
    expect(() => kvLayout(spec, { kvCacheDtype: "auto", modelDtype: "bfloat16", tensorParallelSize: 8 })).toThrow(
      /--tensor-parallel-size 8/,
    );
    expect(() => validateTensorParallel(spec, 0)).toThrow(/--tensor-parallel-size/);
  });
  it("rejects a TP that is neither a divisor nor a multiple of the KV heads", () => {
    // 12 query heads, 2 KV heads (Qwen2.5-1.5B): TP 3 divides the query heads but not the KV heads.
    expect(() => validateTensorParallel(resolveModel("Qwen/Qwen2.5-1.5B-Instruct"), 3)).toThrow(/2 KV heads/);
  });
});

describe("kvLayout: naive MHA figure and sliding windows", () => {
  it("LLaMA-7B (huggyllama, MHA) naive = GQA-aware = 524,288 B (2 × 32 × 4096 × 2)", () => {
    const l = kv("huggyllama/llama-7b");
    expect(l.naiveMhaBytesPerToken).toBe(524_288);
    expect(l.bytesPerToken).toBe(524_288);
  });
  it("Llama-3.1-8B naive figure is 4× the GQA one (32 query vs 8 KV heads)", () => {
    const l = kv("meta-llama/Llama-3.1-8B-Instruct");
    expect(l.naiveMhaBytesPerToken).toBe(4 * l.bytesPerToken);
  });
  it("gemma-2-9b: 21 sliding + 21 full layers, window 4096, head_dim 256", () => {
    // 42 × 2 × 8 × 256 × 2 = 344,064 B/token when every layer is treated as full attention.
    const l = kv("google/gemma-2-9b");
    expect([l.numSlidingLayers, l.numFullAttentionLayers, l.slidingWindow]).toEqual([21, 21, 4096]);
    expect(l.bytesPerToken).toBe(344_064);
  });
  it("gpt-oss-120b layer_types: 18 sliding (window 128) + 18 full", () => {
    const l = kv("openai/gpt-oss-120b");
    expect([l.numSlidingLayers, l.numFullAttentionLayers, l.slidingWindow]).toEqual([18, 18, 128]);
  });
  it("Mistral-7B-v0.1: all 32 layers sliding with window 4096; Llama has none", () => {
    const m = kv("mistralai/Mistral-7B-v0.1");
    expect([m.numSlidingLayers, m.numFullAttentionLayers, m.slidingWindow]).toEqual([32, 0, 4096]);
    const l = kv("meta-llama/Llama-3.1-8B-Instruct");
    expect([l.numSlidingLayers, l.slidingWindow]).toEqual([0, undefined]);
  });
  it("slidingWindowMaxTokensPerRequest = (cdiv(min(window − 1 + batched, max_model_len), bs) + 1) × bs", () => {
    // vLLM SlidingWindowSpec.max_memory_usage_bytes: window 4096, 2048 batched tokens, block 16:
    // 4095 + 2048 = 6143 tokens → cdiv = 384 blocks, + 1 = 385 blocks = 6,160 tokens.
    expect(slidingWindowMaxTokensPerRequest(4096, 2048, 16)).toBe(6_160);
    // gpt-oss window 128, 8192 batched, block 16: 127 + 8192 = 8319 → 520 + 1 = 521 blocks = 8,336 tokens.
    expect(slidingWindowMaxTokensPerRequest(128, 8192, 16)).toBe(8_336);
    // capped by max_model_len 4096: 4096 / 16 = 256 + 1 = 257 blocks = 4,112 tokens.
    expect(slidingWindowMaxTokensPerRequest(4096, 2048, 16, 4096)).toBe(4_112);
  });
});

describe("kvLayout: MQA and every preset", () => {
  it("MQA (one KV head): 2 × 1 × 128 × 2 B per layer, replicated on every rank under TP", () => {
    const mqa = modelFromConfig("mqa", {
      hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 1,
      intermediate_size: 11008, vocab_size: 32000, max_position_embeddings: 2048, head_dim: null, sliding_window: null,
    });
    // 32 layers × 2 × 1 × 128 × 2 B = 16,384 B/token, the same on each of 4 ranks.
    for (const tp of [1, 4]) {
      const l = kvLayout(mqa, { kvCacheDtype: "auto", modelDtype: "bfloat16", tensorParallelSize: tp });
      expect([l.kvHeadsPerRank, l.bytesPerToken, l.numSlidingLayers]).toEqual([1, 16_384, 0]);
    }
  });
  it("every preset loads and has a KV layout at TP 1 whose layer counts add up", () => {
    for (const name of listModels()) {
      const l = kv(name);
      expect(l.numFullAttentionLayers + l.numSlidingLayers, name).toBe(l.numAttentionLayers);
      expect(l.bytesPerToken, name).toBe(l.bytesPerTokenPerLayer * l.numAttentionLayers);
    }
  });
});

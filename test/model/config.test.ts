import { describe, expect, it } from "vitest";
import { countParams } from "../../sim/model/params.ts";
import { listModels, modelFromConfig, presetConfig, resolveModel } from "../../sim/model/registry.ts";
import presets from "../../sim/model/presets.json" with { type: "json" };
import { userErrorOf } from "../user-error.ts";

const llama = {
  model_type: "llama",
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  vocab_size: 128256,
  max_position_embeddings: 8192,
};


describe("registry", () => {
  it("lists the preset keys exactly as in presets.json", () => {
    expect(listModels()).toEqual(Object.keys(presets.models));
    expect(listModels()).toContain("meta-llama/Llama-3.1-8B-Instruct");
  });
  it("resolves a preset ignoring case and by bare repo name", () => {
    expect(resolveModel("META-LLAMA/llama-3.1-8b-INSTRUCT").name).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(resolveModel("Qwen3-8B").name).toBe("Qwen/Qwen3-8B");
  });
  it("suggests close names for an unknown model", () => {
    const e = userErrorOf(() => resolveModel("llama-3.1-8b"));
    expect(e.message).toMatch(/^unknown model llama-3\.1-8b; did you mean meta-llama\/Llama-3\.1-8B-Instruct, /);
    expect(e.field).toBe("--model");
  });
  it("passes a ModelSpec through", () => {
    const spec = modelFromConfig("x", llama);
    expect(resolveModel(spec)).toBe(spec);
  });
  it("presetConfig returns the config without provenance notes", () => {
    const c = presetConfig("google/gemma-2-9b");
    expect(c.head_dim).toBe(256);
    expect(Object.keys(c).some((k) => k.startsWith("_"))).toBe(false);
  });
});

describe("modelFromConfig: Llama-style", () => {
  it("reads the shapes; head_dim defaults to hidden / heads; untied by default", () => {
    const s = modelFromConfig("x", llama);
    expect(s).toMatchObject({ headDim: 128, numKvHeads: 8, tieWordEmbeddings: false, gatedMlp: true, normType: "rmsnorm", qkvBias: false });
  });
  it("num_key_value_heads defaults to the attention heads (MHA)", () => {
    const { num_key_value_heads: _, ...mha } = llama;
    expect(modelFromConfig("x", mha).numKvHeads).toBe(32);
  });
  it("names a missing required field", () => {
    const { vocab_size: _, ...bad } = llama;
    const e = userErrorOf(() => modelFromConfig("my/config.json", bad));
    expect(e.message).toBe('my/config.json: config field "vocab_size" is missing');
    expect(e.field).toBe("vocab_size");
  });
  it("names an invalid field", () => {
    expect(userErrorOf(() => modelFromConfig("m", { ...llama, hidden_size: "4096" })).message).toMatch(
      /"hidden_size" must be a positive integer, got "4096"/,
    );
    expect(userErrorOf(() => modelFromConfig("m", { ...llama, num_key_value_heads: 5 })).field).toBe("num_key_value_heads");
    expect(userErrorOf(() => modelFromConfig("m", { ...llama, tie_word_embeddings: "yes" })).field).toBe("tie_word_embeddings");
  });
  it("Qwen2 gets q/k/v biases, Qwen3 per-head q/k norms, Gemma-2 sandwich norms and tied embeddings", () => {
    expect(resolveModel("Qwen/Qwen2.5-7B-Instruct").qkvBias).toBe(true);
    expect(resolveModel("Qwen/Qwen3-8B").qkNorm).toBe(true);
    const g = resolveModel("google/gemma-2-9b");
    expect([g.sandwichNorms, g.tieWordEmbeddings, g.headDim]).toEqual([true, true, 256]);
  });
  it("attention_bias puts a bias on q, k, v and o: 4096 + 1024 + 1024 + 4096 per layer", () => {
    const plain = countParams(modelFromConfig("x", llama)).total;
    expect(countParams(modelFromConfig("x", { ...llama, attention_bias: true })).total - plain).toBe(32 * 10_240);
  });
  it("reads a multimodal config's text_config (Gemma-3 style)", () => {
    const s = modelFromConfig("g3", { model_type: "gemma3", text_config: { ...llama, model_type: "gemma3_text", sliding_window: 1024 } });
    // Gemma-3: every 6th layer full (sliding_window_pattern default 6): 32 layers → layers 5,11,17,23,29 full.
    expect(s.layerTypes?.filter((t) => t === "full_attention").length).toBe(5);
    expect(s.qkNorm).toBe(true);
  });
});

describe("modelFromConfig: GPT-2 style", () => {
  it("maps n_embd/n_layer/n_head/n_positions/n_inner with GPT-2's conventions", () => {
    const s = modelFromConfig("gpt2", { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024, resid_pdrop: 0.1 });
    expect(s).toMatchObject({
      hiddenSize: 768, numLayers: 12, numKvHeads: 12, headDim: 64, intermediateSize: 3072, maxPositionEmbeddings: 1024,
      positionEmbeddings: 1024, gatedMlp: false, linearBias: true, qkvBias: true, normType: "layernorm",
      tieWordEmbeddings: true, dropout: 0.1,
    });
    expect(modelFromConfig("g", { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_inner: 1000 }).intermediateSize).toBe(1000);
  });
  it("names a missing GPT-2 field", () => {
    expect(userErrorOf(() => modelFromConfig("g", { n_embd: 768, n_head: 12, vocab_size: 50257 })).field).toBe("n_layer");
  });
});

describe("modelFromConfig: MoE, MLA, sliding windows", () => {
  it("Mixtral: num_local_experts, top-2, expert width = intermediate_size", () => {
    expect(resolveModel("mistralai/Mixtral-8x7B-v0.1").moe).toEqual({
      numExperts: 8, numExpertsPerTok: 2, moeIntermediateSize: 14336, numSharedExperts: 0, firstKDense: 0,
    });
  });
  it("DeepSeek-V3: 256 routed + 1 shared expert, 3 dense layers, MLA ranks", () => {
    const s = resolveModel("deepseek-ai/DeepSeek-V3");
    expect(s.moe).toMatchObject({ numExperts: 256, numExpertsPerTok: 8, moeIntermediateSize: 2048, numSharedExperts: 1, firstKDense: 3 });
    expect(s.mla).toEqual({ kvLoraRank: 512, qLoraRank: 1536, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });
  });
  it("Qwen2-MoE's shared expert: its own width plus a hidden→1 gate", () => {
    // Qwen1.5-MoE-A2.7B shapes: 60 experts of 1408, shared expert 5632. Per layer beyond a no-shared model:
    // 3 × 2048 × 5632 + 2048 (gate) = 34,605,056.
    const base = { ...llama, model_type: "qwen2_moe", hidden_size: 2048, num_hidden_layers: 24, num_attention_heads: 16,
      num_key_value_heads: 16, intermediate_size: 5632, vocab_size: 151936, num_experts: 60, num_experts_per_tok: 4,
      moe_intermediate_size: 1408 };
    const s = modelFromConfig("q", { ...base, shared_expert_intermediate_size: 5632 });
    expect(s.moe).toMatchObject({ numSharedExperts: 1, sharedExpertIntermediateSize: 5632, sharedExpertGate: true });
    expect(countParams(s).total - countParams(modelFromConfig("q", base)).total).toBe(24 * 34_605_056);
    // Qwen1.5-MoE-A2.7B: HF card "14.3B" parameters in total.
    expect(Math.round(countParams(s).total / 1e8) / 10).toBe(14.3);
  });
  it("Qwen2's use_sliding_window=false ignores sliding_window; true applies it from max_window_layers", () => {
    expect(modelFromConfig("q", { ...llama, model_type: "qwen2", sliding_window: 4096, use_sliding_window: false }).slidingWindow).toBeUndefined();
    const s = modelFromConfig("q", { ...llama, model_type: "qwen2", sliding_window: 4096, use_sliding_window: true, max_window_layers: 28 });
    expect(s.layerTypes?.filter((t) => t === "sliding_attention").length).toBe(4);
  });
  it("rejects a layer_types list of the wrong length", () => {
    expect(userErrorOf(() => modelFromConfig("m", { ...llama, sliding_window: 128, layer_types: ["sliding_attention"] })).field).toBe("layer_types");
  });
});

import { describe, expect, it } from "vitest";
import { modelFromConfig, presetConfig, resolveModel } from "../../sim/model/registry.ts";
import { servingQuantization } from "../../sim/model/quant-config.ts";
import { userErrorOf } from "../user-error.ts";

const llama = {
  model_type: "llama", hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
  intermediate_size: 14336, vocab_size: 128256, max_position_embeddings: 8192,
};
const withQuant = (quantization_config: unknown) => modelFromConfig("m/config.json", { ...llama, quantization_config });


describe("config.json quantization_config → the checkpoint's quantization", () => {
  it("reads the quant_method fields real checkpoints ship", () => {
    // gpt-oss-120b config.json
    expect(withQuant({ modules_to_not_convert: ["model.layers.*.self_attn", "lm_head"], quant_method: "mxfp4" }).quantization).toBe("mxfp4");
    // deepseek-ai/DeepSeek-V3 config.json (block-wise fp8)
    expect(withQuant({ activation_scheme: "dynamic", fmt: "e4m3", quant_method: "fp8", weight_block_size: [128, 128] }).quantization).toBe("fp8");
    // Qwen/Qwen2.5-7B-Instruct-AWQ config.json
    expect(withQuant({ bits: 4, group_size: 128, modules_to_not_convert: null, quant_method: "awq", version: "gemm", zero_point: true }).quantization).toBe("int4-awq");
    // TheBloke-style GPTQ config.json, 4 and 8 bits
    expect(withQuant({ bits: 4, group_size: 128, damp_percent: 0.1, desc_act: false, sym: true, true_sequential: true, quant_method: "gptq" }).quantization).toBe("gptq");
    expect(withQuant({ bits: 8, group_size: 128, desc_act: false, quant_method: "gptq" }).quantization).toBe("gptq-int8");
    // vLLM lower-cases quant_method
    expect(withQuant({ quant_method: "MXFP4" }).quantization).toBe("mxfp4");
  });

  it("no quantization_config → undefined (an unquantized checkpoint)", () => {
    expect(modelFromConfig("m", llama).quantization).toBeUndefined();
    expect("quantization" in modelFromConfig("m", llama)).toBe(false);
  });

  it("reads a top-level quantization_config of a multimodal wrapper whose shapes are under text_config", () => {
    const spec = modelFromConfig("vlm", { model_type: "llava", text_config: llama, quantization_config: { quant_method: "fp8" } });
    expect(spec.hiddenSize).toBe(4096);
    expect(spec.quantization).toBe("fp8");
  });

  it("an unknown method, a bad bits value or a malformed block is a UserError naming the field", () => {
    const unknown = userErrorOf(() => withQuant({ quant_method: "bitsandbytes", load_in_4bit: true }));
    expect(unknown.field).toBe("quantization_config.quant_method");
    expect(unknown.message).toMatch(/"bitsandbytes", which vramscope does not size \(known: mxfp4, fp8, awq, gptq\)/);
    expect(userErrorOf(() => withQuant({ quant_method: "gptq", bits: 3 })).field).toBe("quantization_config.bits");
    expect(userErrorOf(() => withQuant({ quant_method: "gptq" })).message).toMatch(/bits" is missing; vLLM's gptq supports 4 or 8 bits/);
    expect(userErrorOf(() => withQuant({ quant_method: "awq", bits: 8 })).field).toBe("quantization_config.bits");
    expect(userErrorOf(() => withQuant({ bits: 4 })).field).toBe("quantization_config.quant_method");
    expect(userErrorOf(() => withQuant("mxfp4")).field).toBe("quantization_config");
  });
});

describe("servingQuantization (vLLM ModelConfig._verify_quantization)", () => {
  const gptOss = resolveModel("openai/gpt-oss-120b");
  const plain = resolveModel("meta-llama/Llama-3.1-8B-Instruct");
  it("not given → the checkpoint's; an unquantized checkpoint → none", () => {
    expect(servingQuantization(gptOss, undefined)).toBe("mxfp4");
    expect(servingQuantization(plain, undefined)).toBe("none");
  });
  it("given and equal → accepted; on an unquantized checkpoint any method is accepted", () => {
    expect(servingQuantization(gptOss, "mxfp4")).toBe("mxfp4");
    expect(servingQuantization(plain, "fp8")).toBe("fp8");
  });
  it("a different explicit method (none included) is vLLM's mismatch error, naming --quantization", () => {
    for (const q of ["none", "fp8", "int4-awq"] as const) {
      const e = userErrorOf(() => servingQuantization(gptOss, q));
      expect(e.field).toBe("--quantization");
      expect(e.message).toContain(`--quantization ${q} does not match the checkpoint of openai/gpt-oss-120b`);
      expect(e.message).toMatch(/quantization_config says is mxfp4; vLLM refuses a mismatch/);
    }
  });
  it("the preset config without its quantization_config block is the unquantized checkpoint again", () => {
    const { quantization_config: _q, ...rest } = presetConfig("openai/gpt-oss-120b");
    expect(modelFromConfig("bf16-copy", rest).quantization).toBeUndefined();
  });
});

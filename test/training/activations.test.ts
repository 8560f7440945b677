import { describe, expect, it } from "vitest";
import { modelFromConfig, resolveModel } from "../../sim/model/registry.ts";
import { layerActivations, lossMemory } from "../../sim/training/index.ts";

const shape = { seqLen: 2048, microBatchSize: 1, tp: 1, sequenceParallel: false, flashAttention: true, actBytes: 2 };

describe("per-layer activations from the model's own tensors", () => {
  it("LLaMA-7B (MHA, SwiGLU 11008, RMSNorm, no dropout), flash attention", () => {
    // By hand, s = 2048, b = 1, h = 4096, f = 11008, a = 32, bf16:
    //   norm inputs 2·2sbh + QKV input 2sbh + Q,K,V 6sbh + out-proj input 2sbh + MLP input 2sbh = 16 sbh = 134,217,728
    //   SwiGLU: gate, up, act(gate), product = 4 · 2·s·f = 8·2048·11008 = 180,355,072
    //   flash-attention log-sum-exp: fp32 · a · s = 4·32·2048 = 262,144
    const a = layerActivations(resolveModel("huggyllama/llama-7b"), shape);
    expect(a.total).toBe(134_217_728 + 180_355_072 + 262_144);
    expect(a.scores).toBe(0);
    expect(a.residualDropoutMasks).toBe(0);
  });
  it("GQA: Llama-3-8B stores K and V for 8 heads, not 32", () => {
    // 2 B · s · (32 + 8 + 8) · 128 = 2·2048·6144 = 25,165,824 (MHA would be 50,331,648).
    expect(layerActivations(resolveModel("meta-llama/Meta-Llama-3-8B"), shape).qkv).toBe(25_165_824);
  });
  it("without flash attention and without dropout, the scores cost 2·a·s² (no mask, no dropout copy)", () => {
    const a = layerActivations(resolveModel("huggyllama/llama-7b"), { ...shape, flashAttention: false });
    expect(a.scores).toBe(2 * 32 * 2048 * 2048);
    expect(a.scoresDropout).toBe(0);
    expect(a.coreAttention).toBe(268_435_456);
  });
});

describe("GPT-2-style config.json (n_embd, n_head, n_layer)", () => {
  // GPT-2 small's config.json fields: n_embd 768, n_head 12, n_layer 12, n_positions 1024, vocab 50257, dropout 0.1.
  const gpt2 = modelFromConfig("gpt2", {
    model_type: "gpt2", n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024, vocab_size: 50257,
    resid_pdrop: 0.1, attn_pdrop: 0.1, embd_pdrop: 0.1, activation_function: "gelu_new",
  });
  it("is Korthikanti's layer: sbh(34 + 5as/h) = 786,432 × 114 = 89,653,248 B at s = 1024, b = 1", () => {
    // sbh = 1024·768 = 786,432; 5as/h = 5·12·1024/768 = 80.
    const a = layerActivations(gpt2, { ...shape, seqLen: 1024, flashAttention: false });
    expect(a.total).toBe(89_653_248);
    expect(a.residualDropoutMasks).toBe(2 * 786_432);
  });
  it("with flash attention the a·s² terms go, leaving 34·sbh + the fp32 log-sum-exp", () => {
    const a = layerActivations(gpt2, { ...shape, seqLen: 1024, flashAttention: true });
    expect(a.total).toBe(34 * 786_432 + 4 * 12 * 1024);
  });
});

describe("logits spike", () => {
  it("matches apple/ml-cross-entropy's measured PyTorch baseline: N = 8192, V = 256000 → 24000 MB fw, 28000 MB fw+bw", () => {
    // Their table (A100, bf16 logits of 8192 × 256000 = 4000 MiB): loss-fw 24000.0, loss-fw-bw 28000.0 MiB.
    const l = lossMemory(8192, 256000, 2, "standard");
    expect(l.logits / 2 ** 20).toBe(4000);
    expect(l.forwardExtra / 2 ** 20).toBe(24000);
    expect(l.backwardExtra / 2 ** 20).toBe(28000);
  });
  it("Llama-3 vocabulary, one 8K sequence: fp32 logits 4,202,692,608 B (3.91 GiB)", () => {
    // ground truth §4c: 8192 · 128256 · 4.
    expect(lossMemory(8192, 128256, 4, "standard").logits).toBe(4_202_692_608);
  });
  it("chunked shrinks only the temporaries; fused never materialises the logits", () => {
    const std = lossMemory(8192, 128256, 2, "standard");
    const ch = lossMemory(8192, 128256, 2, "chunked", 8);
    // chunked backward: saved log-softmax 4NV + one chunk's (4 + 4 + 2)·(N/8)·V.
    expect(ch.backwardExtra).toBe(4 * 8192 * 128256 + 10 * 1024 * 128256);
    expect(ch.peak).toBeLessThan(std.peak);
    expect(lossMemory(8192, 128256, 2, "fused").peak).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { resolveModel } from "../../sim/model/registry.ts";
import { computeTrainingMemory, optimizerStateBytes, stageParamsOfModel } from "../../sim/training/index.ts";
import { tinyLlama } from "./helpers.ts";

describe("optimizer states from tensor shapes", () => {
  // One layer, h = 8, 2 heads × 4 (1 KV head), SwiGLU f = 16, vocab 10, untied. Tensors (rows × cols):
  // embed 10×8, q 8×8, k 4×8, v 4×8, o 8×8, gate 16×8, up 16×8, down 8×16, 2 norms of 8, final norm 8, lm_head 10×8.
  const m = tinyLlama({ hiddenSize: 8, numLayers: 1, numAttentionHeads: 2, numKvHeads: 1, headDim: 4, intermediateSize: 16, vocabSize: 10 });
  const [stage] = stageParamsOfModel(m, 1, 1, 1);
  it("counts 760 parameters by hand", () => {
    // 80 + 64 + 32 + 32 + 64 + 128 + 128 + 128 + 16 + 8 + 80
    expect(stage.params).toBe(760);
  });
  it("Adafactor keeps rows + cols per matrix and the whole vector otherwise: 188 fp32 values", () => {
    // 18 + 16 + 12 + 12 + 16 + 24 + 24 + 24 + 16 + 8 + 18 = 188
    expect(optimizerStateBytes("adafactor", stage.params, stage.tensors, 4)).toBe(188 * 4);
    expect(optimizerStateBytes("adafactor", stage.params, stage.tensors, 4, true)).toBe(188 * 4 + 760 * 4);
    expect(optimizerStateBytes("adamw", stage.params, stage.tensors, 4)).toBe(760 * 8);
  });
  it("8-bit Adam keeps tensors under 4096 elements in 32-bit (bitsandbytes min_8bit_size)", () => {
    expect(optimizerStateBytes("adam-8bit", stage.params, stage.tensors, 4)).toBe(760 * 8);
  });
  it("LLaMA-7B under Adafactor: a tiny fraction of Adam's 8 B/param", () => {
    const r = computeTrainingMemory({ model: resolveModel("huggyllama/llama-7b"), optimizer: "adafactor" });
    expect(r.bytesPerParam.optimizer).toBeGreaterThan(0);
    expect(r.bytesPerParam.optimizer).toBeLessThan(0.01);
  });
});

describe("TP and PP split the parameters", () => {
  const llama = resolveModel("meta-llama/Llama-2-7b-hf");
  it("Llama-2-7B: 6,738,415,616 at tp = pp = 1; TP shards everything but the norms", () => {
    expect(stageParamsOfModel(llama, 1, 1, 1)[0].params).toBe(6_738_415_616);
    // Norms: 32 layers × 2 × 4096 + 4096 = 266,240, replicated on both ranks.
    expect(stageParamsOfModel(llama, 2, 1, 1)[0].params).toBe((6_738_415_616 - 266_240) / 2 + 266_240);
  });
  it("PP 4: the first stage holds the embedding, the last the head and final norm", () => {
    const s = stageParamsOfModel(llama, 1, 4, 1);
    const layer = 202_383_360; // 4·4096² + 3·4096·11008 + 2·4096
    expect(s.map((x) => x.params)).toEqual([8 * layer + 131_072_000, 8 * layer, 8 * layer, 8 * layer + 131_072_000 + 4096]);
  });
});

describe("suggestions", () => {
  it("Llama-2-7B DDP on 8 × A100-80GB does not fit (16 B/param); FSDP does and comes first", () => {
    const cfg = { model: resolveModel("meta-llama/Llama-2-7b-hf"), numGpus: 8, gpu: { name: "80GiB", memoryBytes: 80 * 2 ** 30, hbmBandwidth: 0, bf16Flops: 0, fp8Flops: null, interconnectBandwidth: 0 } };
    const r = computeTrainingMemory(cfg);
    expect(r.fits).toBe(false);
    expect(r.oomByBytes).toBe(r.peakBytes - 80 * 2 ** 30);
    const fsdp = r.suggestions.find((s) => s.change.startsWith("--fsdp"))!;
    expect(fsdp.fits).toBe(true);
    expect(fsdp.peakBytes).toBe(computeTrainingMemory({ ...cfg, zeroStage: 3 }).peakBytes);
    expect(r.suggestions[0].fits).toBe(true);
    const firstMiss = r.suggestions.findIndex((s) => !s.fits);
    if (firstMiss >= 0) expect(r.suggestions.slice(firstMiss).every((s) => !s.fits)).toBe(true);
  });
});

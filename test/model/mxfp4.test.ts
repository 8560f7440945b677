import { describe, expect, it } from "vitest";
import { GiB } from "../../sim/units.ts";
import { countParams } from "../../sim/model/params.ts";
import { listModels, modelFromConfig, presetConfig, resolveModel } from "../../sim/model/registry.ts";
import { mxfp4TritonHopperExtraBytes } from "../../sim/model/mxfp4.ts";
import { modelTensors } from "../../sim/model/tensors.ts";
import { mxfp4IntermediatePerRank, weightBytes } from "../../sim/model/weights.ts";

const GPT_OSS = "openai/gpt-oss-120b";
const mx = (tp: number) => weightBytes(resolveModel(GPT_OSS), { dtype: "bfloat16", quantization: "mxfp4", tensorParallelSize: tp });

/*
 * gpt-oss-120b by hand (config.json: hidden 2880, 36 layers, 64 q / 8 kv heads × 64, 128 experts of intermediate
 * 2880, vocab 201088 = 3142 × 64 so no vocab padding, untied lm_head, biases on q/k/v/o, experts and router,
 * one attention sink per head):
 *   expert matrices  36 × 128 × 3 × 2880 × 2880 = 114,661,785,600 params
 *     mxfp4 data     ÷ 2 (two E2M1 per byte)    =  57,330,892,800 B
 *     E8M0 scales    ÷ 32 (1 B per 32 inputs)   =   3,583,180,800 B
 *   bf16 rest (× 2 B):
 *     embedding / lm_head  201088 × 2880         =     579,133,440 params each
 *     attention  36 × (4096·2880 + 2·512·2880 + 2880·4096 + biases 4096+512+512+2880 + sinks 64) = 955,805,184
 *     router     36 × (128·2880 + 128)           =      13,275,648
 *     expert biases 36 × 128 × (2·2880 + 2880)   =      39,813,120
 *     norms      36 × 2 × 2880 + 2880            =         210,240
 *     → 2,167,371,072 params = 4,334,742,144 B
 *   total 57,330,892,800 + 3,583,180,800 + 4,334,742,144 = 65,248,815,744 B = 60.77 GiB
 * Cross-checks: the brief's estimate (≈ 65.2 GB) and the llama.cpp GGUF of the same checkpoint, 60.87 GiB.
 */
describe("mxfp4 (vLLM Mxfp4MoEMethod) on gpt-oss-120b", () => {
  it("whole model = 65,248,815,744 B (60.77 GiB), vs 233,658,313,344 B (217.61 GiB) in bf16", () => {
    const w = mx(1);
    expect(w.totalBytes).toBe(65_248_815_744);
    expect((w.totalBytes / GiB).toFixed(2)).toBe("60.77");
    expect(w.totalBreakdown).toEqual({
      embedding: 1_158_266_880,
      lmHead: 1_158_266_880,
      attention: 1_911_610_368,
      // expert data 57,330,892,800 + router 26,551,296 + expert biases 79,626,240
      mlp: 57_437_070_336,
      norms: 420_480,
      quantScales: 3_583_180_800,
    });
    // TP 1: 2880 is already a multiple of 64, so nothing is padded and one GPU loads the checkpoint as is.
    expect(w.perRankBytes).toBe(65_248_815_744);
    const bf16 = weightBytes(resolveModel(GPT_OSS), { dtype: "bfloat16", quantization: "none", tensorParallelSize: 1 });
    expect(bf16.totalBytes).toBe(233_658_313_344);
    expect(Math.abs(w.totalBytes / GiB - 60.87)).toBeLessThan(0.15); // the GGUF (mxfp4 experts, bf16 rest)
  });

  it("TP 2 per rank = 33,328,681,344 B: the 1440-wide expert shard is padded to 1472 (Triton path, multiple of 64)", () => {
    // Per rank: ⌈90 blocks / 2⌉ × 32 = 1440 → round up to 64 → 1472.
    //   expert data   4608 experts × 3 × 1472 × 2880 / 2      = 29,302,456,320
    //   expert scales 4608 × (2 × 1472 × 2880/32 + 2880 × 1472/32) = 4608 × 3 × 132,480 = 1,831,403,520
    //   expert biases 4608 × (2 × 1472 + 2880) × 2 B          =     53,673,984 (down bias whole on each rank)
    //   router        36 × 368,768 × 2 B (replicated)          =     26,551,296
    //   embedding, lm_head 100544 × 2880 × 2 B each            =    579,133,440
    //   attention 36 × (2048·2880 + 2·256·2880 + 2880·2048 + 2048+256+256 + o bias 2880 + 32 sinks) × 2 B = 955,908,864
    //   norms (replicated) 210,240 × 2 B                       =        420,480
    //   sum = 33,328,681,344
    const w = mx(2);
    expect(w.breakdown).toEqual({
      embedding: 579_133_440,
      lmHead: 579_133_440,
      attention: 955_908_864,
      mlp: 29_302_456_320 + 53_673_984 + 26_551_296,
      norms: 420_480,
      quantScales: 1_831_403_520,
    });
    expect(w.perRankBytes).toBe(33_328_681_344);
    expect(w.totalBytes).toBe(65_248_815_744); // the checkpoint itself is never padded
  });

  it("pads the per-rank intermediate size as vLLM's loader and create_weights do", () => {
    // gpt-oss 2880 = 90 blocks of 32: TP 1 → 2880; 2 → 45 blocks = 1440 → 1472; 4 → 23 blocks = 736 → 768;
    // 8 → 12 blocks = 384 → 384.
    expect([1, 2, 4, 8].map((tp) => mxfp4IntermediatePerRank(2880, tp))).toEqual([2880, 1472, 768, 384]);
  });

  it("Marlin backend shapes (I → 2944, H → 3072) match vLLM's 'Model loading took 65.9651 GiB' to 0.1% (vllm#23278)", () => {
    // vllm-project/vllm#23278 (2025-08-20): vLLM 0.10.1, `vllm serve openai/gpt-oss-120b` on one H100 PCIe, TP 1,
    // Marlin (its log warns from marlin_utils_fp4.py that the GPU has no native FP4), then "[gpu_model_runner.py:2007]
    // Model loading took 65.9651 GiB and 12.799889 seconds". The same figure is in a vLLM 0.11.2 single-GPU log
    // (blog.huikang.dev/2025/12/28/vllm-logs.html). By hand, per expert:
    //   gate, up [2944 × 3072] and down [3072 × 2944] = 3 × 9,043,968 elements → 13,565,952 B data + 847,872 B
    //   scales (3 × 2944·96 or 3072·92 = 282,624) = 14,413,824 B; × 4608 = 66,418,900,992 B
    //   biases (2 × 2944 + 3072) × 2 B × 4608 = 82,575,360 B
    //   the rest as in bf16: 4,334,742,144 − 79,626,240 (the unpadded expert biases) = 4,255,115,904 B
    //   → 70,756,592,256 B = 65.897 GiB; vLLM measured 65.965 GiB, 73 MB more (buffers that are not weights, and
    //   allocator rounding; the Triton case below leaves a similar 83 MB).
    const w = weightBytes(resolveModel(GPT_OSS), { dtype: "bfloat16", quantization: "mxfp4", tensorParallelSize: 1, mxfp4Backend: "marlin" });
    expect(w.perRankBytes).toBe(66_418_900_992 + 82_575_360 + 4_255_115_904);
    expect(Math.abs(w.perRankBytes / GiB / 65.9651 - 1)).toBeLessThan(0.002);
    expect(w.totalBytes).toBe(65_248_815_744);
    expect(mxfp4IntermediatePerRank(2880, 2, "marlin")).toBe(1536); // 1440 → multiple of 128
  });

  it("Triton backend before vllm#46549 (scales held twice, the copy padded; fp32 expert biases) matches 'Model loading took 64.38 GiB' to 0.2% (vllm#33155)", () => {
    // vllm-project/vllm#33155 (2026-01-27): vLLM 0.14.1, gpt-oss-120b on one H100, TP 1, "[mxfp4.py:165] Using Triton
    // backend", then "[gpu_model_runner.py:3905] Model loading took 64.38 GiB memory and 14.380607 seconds".
    // vLLM's TRITON branch of Mxfp4MoEMethod.process_weights_after_loading keeps w13/w2_weight_scale registered next
    // to the swizzled copies it hands the kernel (freed only by vllm-project/vllm#46549), and triton_kernels'
    // HopperMXScaleLayout pads each copy's rows to 256 (num_warps 8) and its block count to even. By hand, per expert:
    //   w13 scale copy: 2·2880 = 5760 rows → 5888, 2880/32 = 90 blocks → 5888 × 90 = 529,920 B
    //   w2 scale copy:  2880 rows → 3072, 2880/32 = 90 blocks           → 3072 × 90 = 276,480 B
    //   → 806,400 B × 4608 experts (36 layers × 128)                                = 3,715,891,200 B
    //   biases bf16 → fp32: (5760 + 2880) × 2 B more × 4608                         =    79,626,240 B
    //   + the checkpoint's shapes (first test)                                      = 65,248,815,744 B
    //   = 69,044,333,184 B = 64.3025 GiB; vLLM measured 64.38 GiB, 83 MB (0.12%) more.
    const spec = resolveModel(GPT_OSS);
    const sizes = { hidden: spec.hiddenSize, intermediate: spec.moe!.moeIntermediateSize };
    const extra = mxfp4TritonHopperExtraBytes(sizes, 36 * 128, 1);
    expect(extra).toEqual({ scaleCopies: 3_715_891_200, fp32Biases: 79_626_240 });
    const held = mx(1).perRankBytes + extra.scaleCopies + extra.fp32Biases;
    expect(held).toBe(69_044_333_184);
    expect(Math.abs(held / GiB / 64.38 - 1)).toBeLessThan(0.002);
    // The count passed in is the routed-expert groups' own count.
    expect(modelTensors(spec).find((g) => g.name === "experts.down_proj")!.count).toBe(36 * 128);
    // TP 2 (no log to check against; the formula by hand): I per rank 1472 (second test).
    //   w13 2944 rows → 3072, 90 blocks = 276,480 B; w2 2880 rows → 3072, 1472/32 = 46 blocks = 141,312 B
    //   → 417,792 B × 4608 = 1,925,185,536 B; biases (2944 + 2880) × 2 B × 4608 = 53,673,984 B.
    expect(mxfp4TritonHopperExtraBytes(sizes, 36 * 128, 2)).toEqual({ scaleCopies: 1_925_185_536, fp32Biases: 53_673_984 });
  });

  it("quantizes only routed-expert tensors: attention, embeddings, lm_head, router, norms and biases keep bf16", () => {
    const spec = resolveModel(GPT_OSS);
    const tagged = modelTensors(spec).filter((g) => g.expertAxis).map((g) => g.name);
    expect(tagged).toEqual([
      "experts.gate_proj",
      "experts.up_proj",
      "experts.down_proj",
      "experts.gate_up.bias",
      "experts.down.bias",
    ]);
    const w = mx(1);
    const none = weightBytes(spec, { dtype: "bfloat16", quantization: "none", tensorParallelSize: 1 });
    for (const part of ["embedding", "lmHead", "attention", "norms"] as const) expect(w.breakdown[part]).toBe(none.breakdown[part]);
  });

  it("changes nothing on a dense model (vLLM has no MXFP4 linear method) and shrinks only the experts of other MoEs", () => {
    const llama = resolveModel("meta-llama/Llama-3.1-8B-Instruct");
    const opts = { dtype: "bfloat16" as const, tensorParallelSize: 1 };
    expect(weightBytes(llama, { ...opts, quantization: "mxfp4" })).toEqual(weightBytes(llama, { ...opts, quantization: "none" }));
    // Qwen3-30B-A3B (config.json shapes): experts 48 × 128 × 3 × 768 × 2048 = 28,991,029,248 params →
    // 14,495,514,624 B data + 905,969,664 B scales; the other 1,541,093,376 params stay bf16 = 3,082,186,752 B.
    const qwen = modelFromConfig("Qwen/Qwen3-30B-A3B", {
      model_type: "qwen3_moe", hidden_size: 2048, num_hidden_layers: 48, num_attention_heads: 32, num_key_value_heads: 4,
      head_dim: 128, intermediate_size: 6144, moe_intermediate_size: 768, num_experts: 128, num_experts_per_tok: 8,
      vocab_size: 151936, max_position_embeddings: 40960, tie_word_embeddings: false,
    });
    expect(countParams(qwen).total).toBe(28_991_029_248 + 1_541_093_376);
    expect(weightBytes(qwen, { ...opts, quantization: "mxfp4" }).totalBytes).toBe(14_495_514_624 + 905_969_664 + 3_082_186_752);
  });
});

describe("checkpoint quantization of the presets", () => {
  it("gpt-oss-120b's preset carries its config.json quantization_config (mxfp4)", () => {
    expect(presetConfig(GPT_OSS).quantization_config).toMatchObject({ quant_method: "mxfp4" });
    expect(resolveModel(GPT_OSS).quantization).toBe("mxfp4");
  });
  it("every other preset is an unquantized checkpoint, and the tensor list they are sized from is unchanged", () => {
    for (const name of listModels().filter((n) => n !== GPT_OSS)) {
      const spec = resolveModel(name);
      expect(spec.quantization, name).toBeUndefined();
      // No routed-expert tag on a dense model; on MoE presets the tag is the only difference, and bf16 bytes stay
      // exactly 2 B × HF's parameter count (what test/model/params.test.ts pins per preset).
      if (!spec.moe) expect(modelTensors(spec).some((g) => g.expertAxis), name).toBe(false);
      const w = weightBytes(spec, { dtype: "bfloat16", quantization: "none", tensorParallelSize: 1 });
      expect(w.totalBytes, name).toBe(2 * countParams(spec).total);
    }
  });
});

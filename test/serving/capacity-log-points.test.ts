import { describe, expect, it } from "vitest";
import { computeKvBudget } from "../../sim/serving/budget.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { GiB } from "../../sim/units.ts";

/**
 * The KV budget against real vLLM startup logs (shared/vllm/kv-cache-log-points.md). Each row's logged figure is
 * the expected value; the activation-peak coefficients were fitted to rows 1, 2 and 6 (sim/serving/activation.ts),
 * and rows 3 and 4 need no fit at all (block arithmetic only).
 */
const within = (got: number, want: number, rel: number) => expect(Math.abs(got - want) / want).toBeLessThanOrEqual(rel);

describe("vLLM log points", () => {
  it("row 1: Llama-3.1-8B on an RTX 3090 (V0, 20,000-token profile) → # GPU blocks: 1952, concurrency 1.56x", () => {
    // V0 profiled max(max_model_len, 2048) = 20,000 tokens without chunked prefill; we reproduce that budget.
    const b = computeKvBudget(
      resolveServingConfig({ model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "RTX-3090-24GB", maxModelLen: 20000, maxNumBatchedTokens: 20000, maxNumSeqs: 256 }),
    );
    within(b.numGpuBlocks, 1952, 0.02);
    expect(b.maxConcurrency.toFixed(2)).toBe("1.56"); // 1950 × 16 / 20000 = 1.56
    expect(b.kvBytesPerToken).toBe(131072);
  });

  it("row 2: Qwen2.5-Math-1.5B on a 22.06 GiB A10G → 15.52 GiB of KV, 36,332 blocks, 141.92x", () => {
    const b = computeKvBudget(
      resolveServingConfig({ model: "Qwen/Qwen2.5-Math-1.5B", gpu: "A10G-24GB", maxModelLen: 4096, maxNumBatchedTokens: 4096, maxNumSeqs: 256 }),
    );
    within(b.numGpuBlocks, 36332, 0.02);
    within(b.kvCacheBytes, 15.52 * GiB, 0.02);
    within(b.weightsBytes, 2.88 * GiB, 0.01); // "model weights take 2.88GiB"
    within(b.activationPeakBytes, 1.4 * GiB, 0.05); // "PyTorch activation peak memory takes 1.40GiB"
    within(b.maxConcurrency, 141.92, 0.02);
    expect(b.kvBytesPerToken).toBe(28672); // 28 layers × 2 heads × 128 × 2 × 2 B
  });

  it("row 3: 127,626 blocks → 'GPU KV cache size: 2,042,016 tokens', 997.08x at 2,048 tokens", () => {
    const b = computeKvBudget(resolveServingConfig({ numGpuBlocksOverride: 127626, maxModelLen: 2048 }));
    expect(b.kvCacheTokens).toBe(2042016);
    expect(b.maxConcurrency.toFixed(2)).toBe("997.08");
    expect(b.logLines).toContain("GPU KV cache size: 2,042,016 tokens");
  });

  it("row 4: Qwen3-14B with 6.51 GiB available → 42,656 tokens, 1.30x at 32,768 (to the block)", () => {
    const b = computeKvBudget(resolveServingConfig({ model: "Qwen/Qwen3-14B", kvCacheMemoryBytes: 6.51 * GiB, maxModelLen: 32768 }));
    // 160 KiB/token × 16 = 2.5 MiB/block; 6.51 GiB / 2.5 MiB = 2666.5 → 2666 blocks
    expect(b.numGpuBlocks).toBe(2666);
    expect(b.kvCacheTokens).toBe(42656);
    expect(b.maxConcurrency.toFixed(2)).toBe("1.30");
  });

  it("row 5: Llama-3.1-70B w8a8 at util 0.98 → weights 67.72 GiB (exact to 0.1%); blocks off by the int8 activation gap", () => {
    const b = computeKvBudget(
      resolveServingConfig({ model: "meta-llama/Llama-3.1-70B-Instruct", gpu: "H100-SXM-80GB", quantization: "int8", gpuMemoryUtilization: 0.98, maxModelLen: 2048, maxNumBatchedTokens: 8192, maxNumSeqs: 256 }),
    );
    within(b.weightsBytes, 67.7229 * GiB, 0.001); // "Loading model weights took 67.7229 GB"
    expect(b.kvBytesPerToken).toBe(327680); // 320 KiB → 5 MiB per block
    // Logged 1381 blocks (6.74 GiB) imply a 3.09 GiB profile peak; our fitted model gives 2.17 GiB for 8,192 tokens, so
    // we overstate KV by 14%. Early V1 (Jan 2025) ran torch.compile and w8a8 activation quantisation inside the
    // profile; with no published breakdown we do not fit this one row. Documented in docs/fidelity.md.
    within(b.numGpuBlocks, 1381, 0.15);
  });

  it("row 6: Llama-8B fine-tune with 26.43 GiB available → 216,496 tokens, 26.43x at 8,192", () => {
    // 26.43 GiB is rounded to 2 decimals: 13,531 blocks = 26.4277 GiB, 13,532 = 26.4297 GiB both print as 26.43.
    const exact = computeKvBudget(resolveServingConfig({ kvCacheMemoryBytes: 13531.5 * 2 * 1024 ** 2, maxModelLen: 8192 }));
    expect(exact.kvCacheTokens).toBe(216496);
    expect(exact.maxConcurrency.toFixed(2)).toBe("26.43");
    const rounded = computeKvBudget(resolveServingConfig({ kvCacheMemoryBytes: 26.43 * GiB, maxModelLen: 8192 }));
    expect(Math.abs(rounded.numGpuBlocks - 13531)).toBeLessThanOrEqual(1);
    // and from first principles on a 47.54 GiB RTX A6000 (the <70 GiB class the log's defaults imply):
    const full = computeKvBudget(resolveServingConfig({ gpu: "RTX-A6000-48GB", maxModelLen: 8192 }));
    within(full.numGpuBlocks, 13531, 0.02);
  });

  it("vLLM README worked example: Llama-3.1-8B with 20 GiB of KV → 10,240 blocks, 163,840 tokens, 1.25x at 131,072", () => {
    const b = computeKvBudget(resolveServingConfig({ kvCacheMemoryBytes: 20 * GiB, maxModelLen: 131072 }));
    expect(b.pageBytesPerLayer).toBe(65536); // 2·16·8·128·2
    expect(b.numGpuBlocks).toBe(10240);
    expect(b.kvCacheTokens).toBe(163840);
    expect(b.maxConcurrency).toBe(1.25);
  });
});

describe("budget arithmetic and errors", () => {
  it("subtracts weights, activation peak and non-torch from total × util", () => {
    const b = computeKvBudget(resolveServingConfig({ maxModelLen: 8192 }));
    expect(b.requestedBytes).toBeCloseTo(79.19 * GiB * 0.9, 0);
    expect(b.kvCacheBytes).toBeCloseTo(b.requestedBytes - b.weightsBytes - b.activationPeakBytes - b.nonTorchBytes, 0);
    expect(b.weightsBytes).toBe(2 * 8030261248); // Llama-3.1-8B bf16
    expect(b.numGpuBlocks).toBe(Math.floor(b.kvCacheBytes / (2 * 1024 ** 2)));
  });

  it("fp8 KV doubles the blocks", () => {
    const a = computeKvBudget(resolveServingConfig({ kvCacheMemoryBytes: 10 * GiB, maxModelLen: 8192 }));
    const f = computeKvBudget(resolveServingConfig({ kvCacheMemoryBytes: 10 * GiB, maxModelLen: 8192, kvCacheDtype: "fp8" }));
    expect(f.numGpuBlocks).toBe(2 * a.numGpuBlocks);
  });

  it("TP splits weights and KV heads per rank", () => {
    const one = computeKvBudget(resolveServingConfig({ model: "meta-llama/Llama-3.1-70B-Instruct", tensorParallelSize: 4, maxModelLen: 8192 }));
    expect(one.kvBytesPerToken).toBe(327680 / 4);
  });

  it("no room for the KV cache → vLLM's 'No available memory for the cache blocks'", () => {
    expect(() => computeKvBudget(resolveServingConfig({ model: "meta-llama/Llama-3.1-70B-Instruct", maxModelLen: 8192 }))).toThrow(
      /No available memory for the cache blocks/,
    );
  });

  it("one max_model_len request does not fit → the estimated maximum model length", () => {
    // 2 GiB of KV at 128 KiB/token = 16,384 tokens (1,024 blocks of 16) < 131,072
    expect(() => computeKvBudget(resolveServingConfig({ kvCacheMemoryBytes: 2 * GiB, maxModelLen: 131072 }))).toThrow(
      /estimated maximum model length is 16384/,
    );
  });

  it("bad flag values name the flag", () => {
    expect(() => resolveServingConfig({ gpuMemoryUtilization: 1.5 })).toThrow(/--gpu-memory-utilization/);
    expect(() => resolveServingConfig({ gpuMemoryUtilization: -0.1 })).toThrow(/--gpu-memory-utilization/);
    expect(() => resolveServingConfig({ blockSize: 0 })).toThrow(/--block-size/);
    // Phi-3-mini-4k: max_position_embeddings 4096 — vLLM refuses a longer max_model_len
    expect(() => resolveServingConfig({ model: "microsoft/Phi-3-mini-4k-instruct", maxModelLen: 8192 })).toThrow(
      /--max-model-len 8192 is greater than the model's max_position_embeddings \(4096\)/,
    );
    expect(() => resolveServingConfig({ model: "no-such-model" })).toThrow(/unknown model/);
    expect(() => resolveServingConfig({ gpu: "H100" })).toThrow(/did you mean H100/);
    expect(() => resolveServingConfig({ enableChunkedPrefill: false, maxNumBatchedTokens: 2048, maxModelLen: 8192 })).toThrow(
      /--max-num-batched-tokens/,
    );
  });

  it("uses vLLM serve's batch defaults by GPU class", () => {
    const h = resolveServingConfig({ gpu: "H100-SXM-80GB" });
    expect([h.maxNumBatchedTokens, h.maxNumSeqs]).toEqual([8192, 1024]);
    const a = resolveServingConfig({ gpu: "A100-SXM-80GB" });
    expect([a.maxNumBatchedTokens, a.maxNumSeqs]).toEqual([2048, 256]);
  });

  it("MLA: DeepSeek-V3's latent cache is not split by TP", () => {
    const b = computeKvBudget(
      resolveServingConfig({ model: "deepseek-ai/DeepSeek-V3", gpu: "H200-141GB", tensorParallelSize: 8, quantization: "fp8", maxModelLen: 16384 }),
    );
    expect(b.kvBytesPerToken).toBe(61 * 576 * 2);
    expect(b.notes.join(" ")).toMatch(/replicated on every TP rank/);
  });
});

import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelFromConfig, presetConfig } from "../../sim/model/registry.ts";
import { computeKvBudget } from "../../sim/serving/budget.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { listModels } from "../../sim/model/registry.ts";
import { weightBytes } from "../../sim/model/weights.ts";
import { userErrorOf } from "../user-error.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "vramscope.mjs");
const GPT_OSS = "openai/gpt-oss-120b";


/*
 * gpt-oss-120b on one H100-SXM-80GB, vLLM serve defaults (util 0.9, 8192 batched tokens, 1024 seqs, block 16), by
 * hand from the budget formula (sim/serving/budget.ts, activation.ts):
 *   total      round(79.19 × 2^30) = round(85,029,615,042.56) = 85,029,615,043 B
 *   requested  × 0.9                                         = 76,526,653,538.7
 *   weights    mxfp4 experts + bf16 rest (test/model/mxfp4)  = 65,248,815,744
 *   activation 8192 × (3.04 × 2880 + 4 × 4 × 2880) + 36.1 × 1024 × 201088
 *              = 8192 × 54,835.2 + 7,433,499,443.2          =  7,882,709,402 (rounded)
 *   non-torch  0.05 GiB                                      =     53,687,091.2
 *   KV         76,526,653,538.7 − 65,248,815,744 − 7,882,709,402 − 53,687,091.2 = 3,341,441,301.5 B (3.11 GiB)
 *   page       2 × 8 kv heads × 64 × 2 B × 16 tokens = 32,768 B per layer; 2 groups of 18 layers → 589,824 B/block
 *   blocks     ⌊3,341,441,301.5 / 589,824⌋ = 5,665 (589,824 × 5,665 = 3,341,352,960)
 *   tokens     ⌊5665 / 2⌋ × 16 = 45,312
 */
describe("gpt-oss-120b fits one 80 GB GPU in MXFP4, as vLLM loads it", () => {
  it("capacity at --max-model-len 32768: 3.11 GiB of KV, 5,665 blocks, 45,312 tokens, 2.21x", () => {
    const config = resolveServingConfig({ model: GPT_OSS, gpu: "H100-SXM-80GB", maxModelLen: 32768 });
    expect(config.quantization).toBe("mxfp4");
    const b = computeKvBudget(config);
    expect(b.weightsBytes).toBe(65_248_815_744);
    expect(b.activationPeakBytes).toBe(7_882_709_402);
    expect(b.kvCacheBytes).toBeCloseTo(3_341_441_301.5, 0);
    expect(b.blockBytes).toBe(589_824);
    expect(b.numGpuBlocks).toBe(5665);
    expect(b.kvCacheTokens).toBe(45_312);
    // One 32,768-token request: 2048 full-attention blocks + (⌈(127 + 8192) / 16⌉ + 1) = 521 sliding → 2569.
    expect(b.maxConcurrency.toFixed(2)).toBe("2.21");
    expect(b.logLines[0]).toBe("Available KV cache memory: 3.11 GiB");
  });

  it("at the full 131,072 context one request needs 8,713 blocks: vLLM's max-model-len error, estimate 45,312", () => {
    // 8192 full + 521 sliding = 8713 blocks × 589,824 B = 5,139,136,512 B = 4.79 GiB > 3.11 GiB. (vLLM users report
    // the same on one H100: vllm-project/vllm#27508 "requiring me to decrease the context".)
    const e = userErrorOf(() => computeKvBudget(resolveServingConfig({ model: GPT_OSS, gpu: "H100-SXM-80GB" })));
    expect(e.field).toBe("--max-model-len");
    expect(e.message).toMatch(/4\.79 GiB KV cache is needed.*\(3\.11 GiB\).*estimated maximum model length is 45312/);
  });

  it("without the checkpoint's quantization_config it is the 217.61 GiB bf16 model that cannot load", () => {
    const { quantization_config: _q, ...bf16 } = presetConfig(GPT_OSS);
    const e = userErrorOf(() => computeKvBudget(resolveServingConfig({ model: modelFromConfig(GPT_OSS, bf16), gpu: "H100-SXM-80GB" })));
    expect(e.message).toMatch(/No available memory for the cache blocks.*weights 217\.61 GiB/);
  });

  it("an explicit --quantization that contradicts the checkpoint is refused, naming the flag", () => {
    const e = userErrorOf(() => resolveServingConfig({ model: GPT_OSS, quantization: "fp8" }));
    expect(e.field).toBe("--quantization");
    expect(resolveServingConfig({ model: GPT_OSS, quantization: "mxfp4", maxModelLen: 32768 }).quantization).toBe("mxfp4");
  });

  it("every other preset still defaults to none, so its weights budget is the unquantized one", () => {
    for (const name of listModels().filter((n) => n !== GPT_OSS)) {
      const c = resolveServingConfig({ model: name });
      expect(c.quantization, name).toBe("none");
    }
    // Llama-3.1-8B: 2 × 8,030,261,248 B (test/model/weights.test.ts), with no vocab padding at TP 1 (128256 = 2004 × 64).
    const c = resolveServingConfig({ model: "meta-llama/Llama-3.1-8B-Instruct" });
    expect(weightBytes(c.model, { dtype: c.dtype, quantization: c.quantization, tensorParallelSize: 1 }).perRankBytes).toBe(16_060_522_496);
  });

  it("the CLI picks the checkpoint's mxfp4 when --quantization is not given, and rejects a contradicting one", () => {
    const out = execFileSync(
      process.execPath,
      [BIN, "capacity", "--model", GPT_OSS, "--gpu", "H100-SXM-80GB", "--max-model-len", "32768", "--json"],
      { encoding: "utf8", timeout: 60_000 },
    );
    const j = JSON.parse(out);
    expect(j.weightsBytes).toBe(65_248_815_744);
    expect(j.numGpuBlocks).toBe(5665);
    // The text report says which quantization sized the weights: 65,248,815,744 B = 60.77 GiB.
    const text = execFileSync(process.execPath, [BIN, "capacity", "--model", GPT_OSS, "--gpu", "H100-SXM-80GB", "--max-model-len", "32768"], { encoding: "utf8", timeout: 60_000 });
    expect(text).toMatch(/− model weights \(mxfp4\) +60\.77 GiB/);
    const bad = spawnSync(process.execPath, [BIN, "capacity", "--model", GPT_OSS, "--quantization", "none"], { encoding: "utf8", timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--quantization none does not match the checkpoint of openai\/gpt-oss-120b/);
  });
});

import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { costInputs, stepCost } from "../../sim/serving/cost-model.ts";
import type { Quantization } from "../../sim/model/types.ts";

/**
 * The step-time model against every timing in shared/vllm/perf-points.md it can express, within 20%. Row 10
 * ("as low as ~5 ms") gives no configuration and is not a calibration point.
 */
const decode = (model: string, gpu: string, tp: number, batch: number, ctx: number) =>
  stepCost(costInputs(resolveServingConfig({ model, gpu, tensorParallelSize: tp, maxModelLen: 8192 })), Array.from({ length: batch }, () => ({ numTokens: 1, numComputedBefore: ctx }))).seconds;
const prefill = (model: string, gpu: string, tp: number, n: number, quantization: Quantization = "none") =>
  stepCost(costInputs(resolveServingConfig({ model, gpu, tensorParallelSize: tp, quantization, maxModelLen: 16384 })), [{ numTokens: n, numComputedBefore: 0 }]).seconds;

const cases: [string, () => number, number][] = [
  // rows 1–4: latency test, batch 8, in 32 / out 128: total ÷ 128 steps; context ~ 32 + 64 on average
  ["row 1: Llama-3.1-8B H100, 7.79 ms/step", () => decode("meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB", 1, 8, 96), 997.5 / 128e3],
  ["row 2: Llama-3-70B H100 TP4, 19.1 ms/step", () => decode("meta-llama/Meta-Llama-3-70B", "H100-SXM-80GB", 4, 8, 96), 2444.5 / 128e3],
  ["row 3: Llama-3.1-8B A100-80GB, 12.34 ms/step", () => decode("meta-llama/Llama-3.1-8B-Instruct", "A100-SXM-80GB", 1, 8, 96), 1579.3 / 128e3],
  ["row 4: Llama-3-70B A100 TP4, 31.2 ms/step", () => decode("meta-llama/Meta-Llama-3-70B", "A100-SXM-80GB", 4, 8, 96), 3990.6 / 128e3],
  ["row 5: Llama-3.1-70B FP8 H100 TP4, 8k prefill 380.4 ms", () => prefill("meta-llama/Llama-3.1-70B-Instruct", "H100-SXM-80GB", 4, 8192, "fp8"), 0.3804],
  ["row 6: Llama-3.1-8B A100 TP2, 2k prefill ≈190 ms", () => prefill("meta-llama/Llama-3.1-8B-Instruct", "A100-SXM-80GB", 2, 2048), 0.19],
  ["row 7: Qwen2.5-72B H100×2, TPOT 30.9–31.3 ms", () => decode("Qwen/Qwen2.5-72B-Instruct", "H100-SXM-80GB", 2, 1, 4000), 0.0311],
  ["row 7: Qwen2.5-72B H100×2, TTFT 8k 1063.8 ms", () => prefill("Qwen/Qwen2.5-72B-Instruct", "H100-SXM-80GB", 2, 8192), 1.0638],
  ["row 7: Qwen2.5-72B H100×2, TTFT 128 41.1 ms", () => prefill("Qwen/Qwen2.5-72B-Instruct", "H100-SXM-80GB", 2, 128), 0.0411],
  ["row 8: Llama-3.1-8B A100-40GB, TPOT ≈13.3 ms", () => decode("meta-llama/Llama-3.1-8B-Instruct", "A100-40GB", 1, 1, 1100), 0.0133],
  ["row 9: Llama-3.1-70B B200 TP4, TPOT 13.2 ms", () => decode("meta-llama/Llama-3.1-70B-Instruct", "B200-180GB", 4, 1, 600), 0.0132],
];

describe("cost model vs published vLLM timings", () => {
  for (const [name, f, want] of cases)
    it(`${name} (within 20%)`, () => {
      const got = f();
      expect(Math.abs(got - want) / want).toBeLessThanOrEqual(0.2);
    });

  it("decode is weight-streaming bound: 8 decodes cost about as much as 1", () => {
    const one = decode("meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB", 1, 1, 100);
    const eight = decode("meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB", 1, 8, 100);
    expect(eight / one).toBeLessThan(1.05);
  });

  it("KV reads grow the step at large batch × context (256 × 2k ≈ 69 GB read, ≈ 4× the weights)", () => {
    const c = costInputs(resolveServingConfig({ maxModelLen: 8192 }));
    const small = stepCost(c, Array.from({ length: 256 }, () => ({ numTokens: 1, numComputedBefore: 10 })));
    const big = stepCost(c, Array.from({ length: 256 }, () => ({ numTokens: 1, numComputedBefore: 2048 })));
    // memory time ∝ weights + KV: (16.06 GB + 256·2049·131072 B) / (16.06 GB + 256·11·131072 B)
    const ratio = (16.06e9 + 256 * 2049 * 131072) / (16.06e9 + 256 * 11 * 131072);
    expect(big.memorySeconds / small.memorySeconds).toBeCloseTo(ratio, 2);
  });
});

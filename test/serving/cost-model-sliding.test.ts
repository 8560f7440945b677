/**
 * Step time on sliding-window layers: a new token there reads and attends over at most `sliding_window` keys, so at
 * long context a hybrid model (gpt-oss-120b: 18 sliding layers with a 128-token window + 18 full layers) streams about
 * half the KV a full-attention model of the same shape would. Figures by hand in each test.
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { costInputs, slidingKeys, stepCost } from "../../sim/serving/cost-model.ts";

describe("slidingKeys: Σ of the keys each new token attends to in a W-token window", () => {
  it("matches the brute-force sum", () => {
    // 300 new tokens from position 0, W = 128: Σ_{i<127} (i+1) = 127·128/2 = 8,128, plus 173 tokens × 128 = 22,144.
    expect(slidingKeys(0, 300, 128)).toBe(30_272);
    // one decode token at position 10,000: 128 keys; at position 50 (context fits): 51 keys
    expect(slidingKeys(10_000, 1, 128)).toBe(128);
    expect(slidingKeys(50, 1, 128)).toBe(51);
    for (const [ctx, n, W] of [[0, 1, 4], [3, 9, 4], [100, 37, 64], [63, 2, 64], [5, 5, 1]]) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.min(ctx + i + 1, W);
      expect(slidingKeys(ctx, n, W)).toBe(s);
    }
  });
});

describe("gpt-oss-120b step time counts its sliding layers' window", () => {
  const c = costInputs(resolveServingConfig({ model: "openai/gpt-oss-120b", gpu: "H100-SXM-80GB", maxModelLen: 32768 }));
  const asFull = { ...c, slidingWindow: 0, slidingLayerFraction: 0 };

  it("reads the model's layout: half the layers slide over 128 tokens, 73,728 B of KV per token", () => {
    expect(c.slidingLayerFraction).toBe(0.5);
    expect(c.slidingWindow).toBe(128);
    expect(c.kvBytesPerTokenPerRank).toBe(73_728); // 36 layers × 8 KV heads × 64 × 2 (K and V) × 2 B
  });

  it("one decode at context 10,000 streams 5,064.5 tokens' KV instead of 10,001", () => {
    // full layers: 10,001 tokens; sliding layers: min(10,001, 128 + 1 − 1) = 128 → ½·10,001 + ½·128 = 5,064.5
    // ΔKV = (10,001 − 5,064.5) × 73,728 B = 363,958,272 B at 76 % of HBM bandwidth.
    const batch = [{ numComputedBefore: 10_000, numTokens: 1 }];
    const dMem = stepCost(asFull, batch).memorySeconds - stepCost(c, batch).memorySeconds;
    expect(dMem).toBeCloseTo(363_958_272 / (c.hbmBandwidth * c.params.bandwidthEfficiency), 15);
  });

  it("a context inside the window costs exactly what full attention does", () => {
    const batch = [{ numComputedBefore: 60, numTokens: 8 }, { numComputedBefore: 0, numTokens: 100 }];
    expect(stepCost(c, batch).seconds).toBeCloseTo(stepCost(asFull, batch).seconds, 15);
  });
});

import { describe, expect, it } from "vitest";
import { computeTrainingMemory, deepspeedZero2Estimate, deepspeedZero3Estimate } from "../../sim/training/index.ts";
import { STATES_ONLY } from "./helpers.ts";

/**
 * DeepSpeed docs/code-docs/source/memory.rst, the "cold" examples (total_params = 2851e6, largest_layer_params =
 * 32e6, 1 node × 8 GPUs) as DeepSpeed prints them: bytes / 2^30 with two decimals, labelled "GB".
 */
const G = 2 ** 30;
const fmt = (b: number) => (b / G).toFixed(2);

describe("DeepSpeed estimators (memory.rst examples)", () => {
  it("ZeRO-2, 2851M params, 8 GPUs: 5.31 / 15.93 GB per GPU, 127.45 GB per CPU", () => {
    const rows = deepspeedZero2Estimate(2851e6, 8, 1);
    expect(rows.map((r) => [fmt(r.cpuBytes), fmt(r.gpuBytes)])).toEqual([
      ["127.45", "5.31"],
      ["127.45", "15.93"],
    ]);
    // By hand: 4·2851e6 + 16·2851e6/8 = 17,106,000,000 B.
    expect(rows[1].gpuBytes).toBe(17_106_000_000);
  });

  it("ZeRO-3, 2851M params, 32M largest layer, 8 GPUs: the six rows", () => {
    const rows = deepspeedZero3Estimate(2851e6, 32e6, 8, 1);
    expect(rows.map((r) => [fmt(r.cpuBytes), fmt(r.gpuBytes)])).toEqual([
      ["71.69", "0.12"],
      ["127.45", "0.12"],
      ["63.72", "0.78"],
      ["127.45", "0.78"],
      ["1.43", "6.09"],
      ["127.45", "6.09"],
    ]);
  });

  it("ZeRO-3 by hand for t5-large (737.67M, largest 32.90M, 4 GPUs): 3291 / 125 / 477 MB (>> 20)", () => {
    const rows = deepspeedZero3Estimate(737.67e6, 32.9e6, 4, 1);
    const mb = (b: number) => Math.floor(b / 2 ** 20);
    expect(mb(rows[4].gpuBytes)).toBe(3291); // case 1
    expect(mb(rows[0].gpuBytes)).toBe(125); // case 2
    expect(mb(rows[2].gpuBytes)).toBe(477); // case 3
  });

  it("the accounting (hf-mixed = 18 B/param, one unit of 32M in flight) gives DeepSpeed's ZeRO-3 GPU and CPU figures", () => {
    const base = { numParams: 2851e6, numGpus: 8, zeroStage: 3 as const, precision: "hf-mixed" as const, fsdpUnitsInFlight: 1, fsdpUnitParams: 32e6, ...STATES_ONLY };
    const ds = deepspeedZero3Estimate(2851e6, 32e6, 8, 1);
    const none = computeTrainingMemory(base);
    expect(none.peakBytes).toBe(ds[4].gpuBytes); // 4·32e6 + 18·2851e6/8 = 6,542,750,000
    const offOpt = computeTrainingMemory({ ...base, offloadOptimizer: true });
    expect(offOpt.peakBytes).toBe(ds[2].gpuBytes); // 4·32e6 + 2·2851e6/8
    // CPU: DeepSpeed's per-node figure is 16Ψ × 1.5 (buffer factor); the accounting's is per GPU rank, no buffer.
    expect(offOpt.devices[0].cpuBytes * 8 * 1.5).toBeCloseTo(ds[2].cpuBytes, 0);
    const offBoth = computeTrainingMemory({ ...base, offloadOptimizer: true, offloadParams: true });
    expect(offBoth.peakBytes).toBe(ds[0].gpuBytes); // 4·32e6
    expect(offBoth.devices[0].cpuBytes * 8 * 1.5).toBeCloseTo(ds[0].cpuBytes, 0);
  });
});

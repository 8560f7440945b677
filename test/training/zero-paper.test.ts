import { describe, expect, it } from "vitest";
import { computeTrainingMemory } from "../../sim/training/index.ts";
import { STATES_ONLY } from "./helpers.ts";

/**
 * ZeRO (Rajbhandari et al., SC'20, arXiv 1910.02054) §5 / Fig. 1 / Table 1: per-device model-state memory with
 * mixed-precision Adam, K = 12: baseline (2+2+K)Ψ; P_os 4Ψ + KΨ/N_d; P_os+g 2Ψ + (2+K)Ψ/N_d; P_os+g+p (2+2+K)Ψ/N_d.
 * GB = 1e9. Expected values below are those formulas worked by hand; `paper` is the cell as printed.
 */
const PSI = 7.5e9;
function states(zeroStage: 0 | 1 | 2 | 3, nd: number): number {
  const d = computeTrainingMemory({ numParams: PSI, numGpus: nd, zeroStage, precision: "zero", ...STATES_ONLY }).devices[0];
  // With no activations, the peak holds every model state and nothing else.
  expect(d.peakBytes).toBe(d.paramsBytes + d.gradsBytes + d.optimizerBytes + d.masterWeightsBytes);
  return d.paramsBytes + d.gradsBytes + d.optimizerBytes + d.masterWeightsBytes;
}

describe("ZeRO paper, 7.5B column", () => {
  it("Figure 1: Ψ = 7.5B, N_d = 64 → 120 GB, 31.4 GB, 16.6 GB, 1.9 GB", () => {
    expect(states(0, 64)).toBe(120e9); // 16 × 7.5e9
    expect(states(1, 64)).toBe(31.40625e9); // 30 + 90/64
    expect(states(2, 64)).toBe(16.640625e9); // 15 + 105/64
    expect(states(3, 64)).toBe(1.875e9); // 120/64
    expect((states(1, 64) / 1e9).toFixed(1)).toBe("31.4");
    expect((states(2, 64) / 1e9).toFixed(1)).toBe("16.6");
    expect((states(3, 64) / 1e9).toFixed(1)).toBe("1.9");
  });

  // [N_d, P_os exact, P_os+g exact, P_os+g+p exact, paper's printed cells]
  const rows: [number, number, number, number, [string, string, string]][] = [
    [1, 120, 120, 120, ["120", "120", "120"]],
    [4, 52.5, 41.25, 30, ["52.5", "41.3", "30"]],
    [16, 35.625, 21.5625, 7.5, ["35.6", "21.6", "7.5"]],
    [64, 31.40625, 16.640625, 1.875, ["31.4", "16.6", "1.88"]],
    [256, 30.3515625, 15.41015625, 0.46875, ["30.4", "15.4", "0.47"]],
    [1024, 30.087890625, 15.1025390625, 0.1171875, ["30.1", "15.1", "0.12"]],
  ];
  for (const [nd, os, osg, osgp, paper] of rows) {
    it(`Table 1, N_d = ${nd}`, () => {
      const got = [states(1, nd), states(2, nd), states(3, nd)].map((b) => b / 1e9);
      expect(got[0]).toBeCloseTo(os, 9);
      expect(got[1]).toBeCloseTo(osg, 9);
      expect(got[2]).toBeCloseTo(osgp, 9);
      // The paper prints three significant figures above 10 GB and two decimals below.
      got.forEach((g, i) => expect(Number(g >= 10 ? g.toPrecision(3) : g.toFixed(2))).toBe(Number(paper[i])));
    });
  }
});

/**
 * ZeRO Table 2: the largest model whose model states fit a 32 GB V100 (1e9 bytes), K = 12, N_d = GPUs / MP —
 * theoretical columns, each the formula of Table 1 solved for Ψ: baseline 32/16, P_os 32/(4 + 12/N_d),
 * P_os+g 32/(2 + 14/N_d), P_os+g+p 32·N_d/16, all × MP. The printed (rounded-down) size fits; 1% above the exact
 * maximum does not.
 */
describe("ZeRO paper Table 2: the verdict on a 32 GB V100", () => {
  const v100 = { name: "V100-32GB", memoryBytes: 32e9, hbmBandwidth: 0, bf16Flops: 0, fp8Flops: null, interconnectBandwidth: 0 };
  const fits = (psi: number, mp: number, gpus: number, zeroStage: 0 | 1 | 2 | 3) =>
    computeTrainingMemory({ numParams: psi, numGpus: gpus, tp: mp, zeroStage, precision: "zero", gpu: v100, ...STATES_ONLY }, { suggest: false }).fits;
  // [MP, GPUs, printed baseline / Pos / Pos+g / Pos+g+p in billions]
  const rows: [number, number, [number, number, number, number]][] = [
    [1, 64, [2, 7.6, 14.4, 128]],
    [2, 128, [4, 15.2, 28.8, 256]],
    [4, 256, [8, 30.4, 57.6, 512]],
    [8, 512, [16, 60.8, 115.2, 1024]],
  ];
  for (const [mp, gpus, printed] of rows)
    it(`MP ${mp}, ${gpus} GPUs`, () => {
      const nd = gpus / mp;
      const exact = [32 / 16, 32 / (4 + 12 / nd), 32 / (2 + 14 / nd), (32 * nd) / 16].map((x) => x * mp * 1e9);
      ([0, 1, 2, 3] as const).forEach((z) => {
        expect(fits(printed[z] * 1e9, mp, gpus, z)).toBe(true);
        expect(fits(exact[z] * 1.01, mp, gpus, z)).toBe(false);
      });
    });
});

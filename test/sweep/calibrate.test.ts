import { describe, expect, it } from "vitest";
import { fitCostModel, parseCalibrationText } from "../../sim/sweep/calibrate.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { DEFAULT_COST_MODEL } from "../../sim/serving/cost-model.ts";

describe("--calibrate: least-squares fit of the step-time model", () => {
  const config = resolveServingConfig({ model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100-SXM-80GB" });

  it("recovers η and the overhead from two decode points, worked by hand", () => {
    // Bytes per step = weights (2 × 8,030,261,248 B) + batch × (context + 1) × 131,072 B of KV; m = bytes / 3.35e12 B/s.
    // Point 1: batch 8, context 96 → m1 = 4.824548 ms, measured 7.79 ms (perf-points row 1).
    // Point 2: batch 64, context 2047 → m2 = 9.922505 ms, measured 15 ms (a made-up second point).
    // Line through both: slope = (15 − 7.79) / (9.922505 − 4.824548) = 1.414292 → η = 0.707068;
    // overhead = 7.79 − 1.414292 × 4.824548 = 0.966681 ms (python3, see the commit).
    const pts = parseCalibrationText("batch,context,step_time_ms\n8,96,7.79\n64,2047,15\n", "cal.csv");
    const fit = fitCostModel(config, pts);
    expect(fit.params.bandwidthEfficiency).toBeCloseTo(0.7070676, 6);
    expect(fit.params.stepOverheadS * 1e3).toBeCloseTo(0.9666813, 6);
    // Both points are memory-bound, so the full model reproduces them.
    for (const r of fit.residuals) expect(Math.abs(r.error)).toBeLessThan(1e-9);
    expect(fit.notes).toEqual([]);
  });

  it("fits η alone from one point, keeping the default overhead", () => {
    const fit = fitCostModel(config, parseCalibrationText('[{"batch": 8, "context": 96, "stepTimeMs": 7.79}]', "cal.json"));
    // η = m1 / (t − overhead), m1 = 4.824548 ms by hand; with the default overhead of 1.9 ms: 4.824548 / 5.89 = 0.819109.
    const overhead = DEFAULT_COST_MODEL.stepOverheadS;
    expect(fit.params.stepOverheadS).toBe(overhead);
    expect(fit.params.bandwidthEfficiency).toBeCloseTo(4.824547572537314e-3 / (7.79e-3 - overhead), 6);
    if (overhead === 1.9e-3) expect(fit.params.bandwidthEfficiency).toBeCloseTo(0.8191082, 6);
    expect(fit.notes[0]).toMatch(/one distinct point/);
  });

  it("refits through the origin when the free fit's overhead is negative", () => {
    // Step times exactly proportional to bytes with a steeper line than the points' spacing implies.
    const fit = fitCostModel(config, parseCalibrationText("batch,context,step_time_s\n1,0,0.003\n64,2047,0.0200\n"));
    expect(fit.params.stepOverheadS).toBe(0);
    expect(fit.notes.join()).toMatch(/negative overhead/);
  });

  it.each([
    ["batch,step_time_ms\n1,2\n", /cal.csv:1: header needs a "context" column/],
    ["batch,context\n1,2\n", /needs "step_time_ms" or "step_time_s"/],
    ["batch,context,step_time_ms\n1,2\n", /cal.csv:2: 2 cells, header has 3/],
    ["# measured on my box\nbatch,context,step_time_ms\n0,2,5\n", /cal.csv:3: batch must be an integer ≥ 1, got "0"/],
    ["batch,context,step_time_ms\n1,2,abc\n", /cal.csv:2: step time must be a number/],
    ["batch,context,step_time_ms\n", /no calibration points/],
    ["[1,", /not valid JSON/],
  ])("reports bad files with file:line (%#)", (text, re) => {
    expect(() => parseCalibrationText(text, "cal.csv")).toThrow(re);
  });
});

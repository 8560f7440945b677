import { describe, expect, it } from "vitest";
import { kneedle, preemptionFreeFrom, preemptionKnees } from "../../sim/sweep/knee.ts";
import { assembleResult, mergeSweepResults } from "../../sim/sweep/merge.ts";
import { costPerMillionTokens } from "../../sim/sweep/metrics.ts";
import { parsePrices, priceFor } from "../../sim/sweep/prices.ts";
import { recommend } from "../../sim/sweep/recommend.ts";
import { shardIndices } from "../../sim/sweep/shard.ts";
import type { PointMetrics, PointResult, SweepSpec } from "../../sim/sweep/types.ts";
import type { VaryParam } from "../../sim/sweep/spec.ts";

const GiB = 2 ** 30;

/** A hand-made point: only the fields the rule reads matter. */
function pt(index: number, params: PointResult["params"], m: Omit<Partial<PointMetrics>, "ttft" | "tpot"> & { ttft: number; tpot: number }): PointResult {
  const metrics: PointMetrics = {
    requests: 100,
    completed: 100,
    rejected: 0,
    simulatedSeconds: 100,
    throughput: { requestsPerS: 1, inputTokensPerS: 1000, outputTokensPerS: 200 },
    goodput: { requestsPerS: 1, fraction: 1 },
    preemptions: 0,
    recomputedTokens: 0,
    recomputedTokenShare: 0,
    peakKvUsage: 0.5,
    numGpuBlocks: 1000,
    kvCacheTokens: 16000,
    numGpus: 1,
    memoryBudgetBytes: 40 * GiB,
    kvCacheBytes: 10 * GiB,
    costPerHour: null,
    costPerMillionOutputTokens: null,
    ...m,
    ttft: { p50: m.ttft / 2, p99: m.ttft },
    tpot: { p50: m.tpot / 2, p99: m.tpot },
  };
  return { index, params, feasible: true, metrics };
}

const utilVary: VaryParam[] = [{ name: "gpu-memory-utilization", values: [0.5, 0.6, 0.7, 0.8, 0.9] }];
const slo = { ttftP99: 2, tpotP99: 0.1 };

describe("recommendation: smallest memory budget meeting the SLOs", () => {
  const points = [
    pt(0, { "gpu-memory-utilization": 0.5 }, { ttft: 5.0, tpot: 0.12, preemptions: 400, memoryBudgetBytes: 40 * GiB }),
    pt(1, { "gpu-memory-utilization": 0.6 }, { ttft: 2.5, tpot: 0.09, preemptions: 120, memoryBudgetBytes: 48 * GiB }),
    pt(2, { "gpu-memory-utilization": 0.7 }, { ttft: 1.8, tpot: 0.08, preemptions: 30, memoryBudgetBytes: 56 * GiB }),
    pt(3, { "gpu-memory-utilization": 0.8 }, { ttft: 1.7, tpot: 0.08, preemptions: 25, memoryBudgetBytes: 64 * GiB }),
    pt(4, { "gpu-memory-utilization": 0.9 }, { ttft: 1.7, tpot: 0.08, preemptions: 24, memoryBudgetBytes: 72 * GiB }),
  ];

  it("picks utilisation 0.7, the first to meet both SLOs", () => {
    const knees = preemptionKnees(points, utilVary);
    const r = recommend(points, slo, knees);
    expect(r.point?.index).toBe(2);
    expect(r.qualifying).toBe(3);
    expect(r.reason).toMatch(/^3 of 5 points meet the SLOs; chose point #2 \(gpu-memory-utilization=0.7\): 56.0 GiB on 1 GPU/);
  });

  it("shows the preemption knee at 0.6", () => {
    // Kneedle by hand: x̂ = 0, .25, .5, .75, 1; ŷ = (y − 24)/376 = 1, .2553, .0160, .0027, 0;
    // 1 − x̂ − ŷ = 0, .4947, .4840, .2473, 0 → the knee is x = 0.6 (120 preemptions).
    const knees = preemptionKnees(points, utilVary);
    expect(knees).toHaveLength(1);
    expect(knees[0].curve).toEqual([[0.5, 400], [0.6, 120], [0.7, 30], [0.8, 25], [0.9, 24]]);
    expect(knees[0].knee).toEqual({ value: 0.6, preemptions: 120, index: 1 });
    // 24 preemptions remain at 0.9: never preemption-free in this range.
    expect(knees[0].preemptionFreeFrom).toBeNull();
    expect(preemptionFreeFrom([[0.5, 9], [0.6, 0], [0.7, 3], [0.8, 0], [0.9, 0]])).toBe(0.8);
    expect(recommend(points, slo, knees).knee?.knee?.value).toBe(0.6);
  });

  it("finds no knee on a flat or short curve", () => {
    expect(kneedle([[0.5, 0], [0.7, 0], [0.9, 0]])).toBeNull();
    expect(kneedle([[0.5, 10], [0.9, 0]])).toBeNull();
    // Linear decrease: every point is on the chord, none below it.
    expect(kneedle([[1, 2], [2, 1], [3, 0]])).toBeNull();
  });

  it("seeks the knee on the falling tail after the curve's maximum", () => {
    // Rising then falling: 48, 88, 83 → the tail from 88 has two points only: no knee.
    expect(kneedle([[0.26, 48], [0.28, 88], [0.3, 83]])).toBeNull();
    // Tail 100, 20, 10, 8 over x = 2..5: x̂ = 0, 1/3, 2/3, 1; ŷ = 1, 12/92, 2/92, 0;
    // 1 − x̂ − ŷ = 0, 0.5362, 0.3116, 0 → knee at x = 3, index 2 in the full curve.
    expect(kneedle([[1, 50], [2, 100], [3, 20], [4, 10], [5, 8]])).toEqual({ value: 3, preemptions: 20, index: 2 });
  });
});

describe("recommendation across GPUs: the cheapest configuration", () => {
  const vary: VaryParam[] = [
    { name: "gpu", values: ["H100-SXM-80GB", "L40S-48GB"] },
    { name: "gpu-memory-utilization", values: [0.5, 0.7, 0.9] },
  ];
  const H = "H100-SXM-80GB";
  const L = "L40S-48GB";
  const points = [
    pt(0, { gpu: H, "gpu-memory-utilization": 0.5 }, { ttft: 1, tpot: 0.05, memoryBudgetBytes: 40 * GiB, costPerMillionOutputTokens: 1.0 }),
    pt(2, { gpu: H, "gpu-memory-utilization": 0.9 }, { ttft: 1, tpot: 0.05, memoryBudgetBytes: 72 * GiB, costPerMillionOutputTokens: 0.995 }),
    pt(3, { gpu: L, "gpu-memory-utilization": 0.5 }, { ttft: 3, tpot: 0.05, memoryBudgetBytes: 24 * GiB, costPerMillionOutputTokens: 0.6 }),
    pt(4, { gpu: L, "gpu-memory-utilization": 0.7 }, { ttft: 1.5, tpot: 0.05, memoryBudgetBytes: 33.6 * GiB, costPerMillionOutputTokens: 0.4125 }),
    pt(5, { gpu: L, "gpu-memory-utilization": 0.9 }, { ttft: 1.2, tpot: 0.05, memoryBudgetBytes: 43.2 * GiB, costPerMillionOutputTokens: 0.41 }),
  ];

  it("takes the L40S at 0.7: within 1% of the cheapest ($0.41 × 1.01 = $0.4141 ≥ $0.4125) and the smaller budget", () => {
    const r = recommend(points, slo, preemptionKnees(points, vary));
    expect(r.point?.index).toBe(4);
    expect(r.rankedBy[0]).toMatch(/cost per million output tokens/);
  });

  it("without prices takes the fewest GPUs, then the smallest budget", () => {
    const noPrice = points.map((p) => ({ ...p, metrics: { ...p.metrics!, costPerMillionOutputTokens: null } }));
    noPrice[0] = { ...noPrice[0], metrics: { ...noPrice[0].metrics!, numGpus: 2 } };
    // Qualifying: #0 (2 GPUs), #2, #4, #5 (1 GPU); smallest 1-GPU budget is #4 (33.6 GiB).
    expect(recommend(noPrice, slo, []).point?.index).toBe(4);
    expect(recommend(noPrice, slo, []).rankedBy[0]).toBe("fewest GPUs");
  });

  it("says when prices are missing for some qualifying GPUs", () => {
    const partly = points.map((p, i) => (i === 4 ? { ...p, metrics: { ...p.metrics!, costPerMillionOutputTokens: null } } : p));
    expect(recommend(partly, slo, []).rankedBy[0]).toMatch(/cost not ranked: --gpu-hour-price missing/);
  });

  it("computes cost per million output tokens from the hourly price", () => {
    // 2 GPUs × $2.50/h = $5/h; 1000 tokens/s = 3.6e6 tokens/h → $5 / 3.6 = $1.3889 per million.
    expect(costPerMillionTokens(5, 1000)).toBeCloseTo(1.388888889, 9);
    expect(costPerMillionTokens(null, 1000)).toBeNull();
    expect(costPerMillionTokens(5, 0)).toBeNull();
  });

  it("parses prices against canonical GPU names", () => {
    const canon = (g: string) => (g.toLowerCase() === "h100-sxm-80gb" ? H : g);
    const prices = parsePrices(["h100-sxm-80gb=2.49", "L40S-48GB=$0.99"], canon);
    expect(prices).toEqual({ [H]: 2.49, [L]: 0.99 });
    expect(priceFor(prices, "l40s-48gb")).toBe(0.99);
    expect(priceFor(prices, "A100-SXM-80GB")).toBeNull();
    expect(() => parsePrices(["H100"])).toThrow(/expected GPU=USD/);
    expect(() => parsePrices(["H100=-1"])).toThrow(/non-negative/);
  });
});

describe("recommendation when nothing qualifies", () => {
  it("names the constraint that fails and by how much", () => {
    const points: PointResult[] = [
      pt(0, { "max-num-seqs": 64 }, { ttft: 3.0, tpot: 0.04 }),
      pt(1, { "max-num-seqs": 128 }, { ttft: 2.5, tpot: 0.06 }),
      { index: 2, params: { "max-num-seqs": 256 }, feasible: false, reason: "no room" },
    ];
    const r = recommend(points, { ttftP99: 2, tpotP99: 0.05 }, []);
    expect(r.point).toBeNull();
    // TTFT: best 2.5 s at #1 → 2.5 / 2 − 1 = +25 %. TPOT: best 0.04 at #0, under 0.05 → −20 %, not failing alone.
    expect(r.failing).toEqual([
      { constraint: "ttft-p99", limit: 2, best: 2.5, excess: 0.25, bestIndex: 1 },
      { constraint: "tpot-p99", limit: 0.05, best: 0.04, excess: expect.closeTo(-0.2, 12), bestIndex: 0 },
    ]);
    // Worst excess: #0 +50 % (TTFT), #1 +25 % (TTFT; TPOT +20 %) → nearest is #1.
    expect(r.nearest?.index).toBe(1);
    expect(r.reason).toBe(
      "no point meets the SLOs: TTFT p99 is at best 2.50 s (point #1) against 2.00 s, 25% over; " +
        "nearest is point #1 (max-num-seqs=128): TTFT p99 2.50 s vs 2.00 s (+25%), TPOT p99 60.0 ms vs 50.0 ms (+20%)",
    );
  });

  it("says when each SLO is reachable alone but not together", () => {
    const points = [pt(0, { "max-num-seqs": 64 }, { ttft: 1.5, tpot: 0.07 }), pt(1, { "max-num-seqs": 128 }, { ttft: 2.6, tpot: 0.04 })];
    const r = recommend(points, { ttftP99: 2, tpotP99: 0.05 }, []);
    // Worst excess: #0 0.07/0.05 − 1 = 40 %; #1 2.6/2 − 1 = 30 % → #1.
    expect(r.nearest?.index).toBe(1);
    expect(r.reason).toMatch(/^each SLO is met by some point but no point meets all of them; nearest is point #1/);
  });

  it("reports infeasible points with their reasons", () => {
    const points: PointResult[] = [
      { index: 0, params: { "tensor-parallel-size": 3 }, feasible: false, reason: "TP 3 does not divide 32 heads" },
      { index: 1, params: { "tensor-parallel-size": 5 }, feasible: false, reason: "TP 5 does not divide 32 heads" },
    ];
    expect(recommend(points, slo, []).reason).toBe("no point is feasible: 1× TP 3 does not divide 32 heads; 1× TP 5 does not divide 32 heads");
  });

  it("with no SLO every feasible point qualifies", () => {
    const points = [pt(0, {}, { ttft: 50, tpot: 5, memoryBudgetBytes: 2 * GiB }), pt(1, {}, { ttft: 1, tpot: 0.01, memoryBudgetBytes: 1 * GiB })];
    expect(recommend(points, {}, []).point?.index).toBe(1);
  });
});

describe("shard merge", () => {
  const spec: SweepSpec = { base: { model: "m" }, vary: utilVary, slo, prices: {} };
  const points = [5, 4, 3, 2, 1].map((p, i) => pt(i, { "gpu-memory-utilization": utilVary[0].values[i] }, { ttft: p, tpot: 0.05, preemptions: p * 10 }));

  it("merging 2 shards reproduces the whole sweep", () => {
    const whole = assembleResult(spec, 5, null, points);
    const shards = [0, 1].map((i) => assembleResult(spec, 5, { index: i, count: 2 }, shardIndices(5, { index: i, count: 2 }).map((k) => points[k])));
    expect(shards[0].points.map((p) => p.index)).toEqual([0, 2, 4]);
    const merged = mergeSweepResults(JSON.parse(JSON.stringify(shards)), ["a.json", "b.json"]);
    expect(merged).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(merged.recommendation.point?.index).toBe(3);
  });

  it("refuses missing, duplicated and foreign shards", () => {
    const s0 = assembleResult(spec, 5, { index: 0, count: 2 }, [points[0], points[2], points[4]]);
    expect(() => mergeSweepResults([s0], ["s0.json"])).toThrow(/2 of 5 points missing \(first: #1, #3\); missing shard\(s\) 1\/2/);
    expect(mergeSweepResults([s0], ["s0.json"], true).points).toHaveLength(3);
    expect(() => mergeSweepResults([s0, s0], ["a.json", "b.json"])).toThrow(/point #0 appears twice \(again in b.json\)/);
    const other = assembleResult({ ...spec, slo: { ttftP99: 1 } }, 5, { index: 1, count: 2 }, [points[1], points[3]]);
    expect(() => mergeSweepResults([s0, other], ["a.json", "b.json"])).toThrow(/b.json comes from a different sweep than a.json/);
    expect(() => mergeSweepResults([{ foo: 1 } as never], ["x.json"])).toThrow(/x.json is not a vramscope sweep --json result/);
  });
});

describe("recommendation properties (random tables)", () => {
  it("the chosen point qualifies, and no qualifying point in the cheapest band has a smaller budget", async () => {
    const fc = (await import("fast-check")).default;
    const pointArb = fc.record({
      ttft: fc.double({ min: 0.1, max: 5, noNaN: true }),
      tpot: fc.double({ min: 0.01, max: 0.2, noNaN: true }),
      mem: fc.integer({ min: 1, max: 80 }),
      cost: fc.option(fc.double({ min: 0.1, max: 3, noNaN: true }), { nil: null }),
      gpus: fc.integer({ min: 1, max: 4 }),
      feasible: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(pointArb, { minLength: 1, maxLength: 12 }), (rows) => {
        const pts: PointResult[] = rows.map((r, i) =>
          r.feasible
            ? pt(i, { "max-num-seqs": i + 1 }, { ttft: r.ttft, tpot: r.tpot, memoryBudgetBytes: r.mem * GiB, costPerMillionOutputTokens: r.cost, numGpus: r.gpus })
            : { index: i, params: { "max-num-seqs": i + 1 }, feasible: false, reason: "no room" },
        );
        const r = recommend(pts, slo, []);
        const ok = pts.filter((p) => p.feasible && p.metrics!.ttft.p99 <= slo.ttftP99 && p.metrics!.tpot.p99 <= slo.tpotP99);
        expect(r.qualifying).toBe(ok.length);
        if (ok.length === 0) {
          expect(r.point).toBeNull();
          return;
        }
        const c = r.point!;
        expect(ok).toContain(c);
        const priced = ok.every((p) => p.metrics!.costPerMillionOutputTokens !== null);
        const band = priced
          ? ok.filter((p) => p.metrics!.costPerMillionOutputTokens! <= Math.min(...ok.map((q) => q.metrics!.costPerMillionOutputTokens!)) * 1.01)
          : ok.filter((p) => p.metrics!.numGpus === Math.min(...ok.map((q) => q.metrics!.numGpus)));
        expect(band).toContain(c);
        for (const p of band) expect(p.metrics!.memoryBudgetBytes).toBeGreaterThanOrEqual(c.metrics!.memoryBudgetBytes);
      }),
      { numRuns: 300 },
    );
  });
});

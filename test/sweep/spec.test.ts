import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cartesianProduct, decimalsOf, parseVary, parseVaryList, pointParams, productSize } from "../../sim/sweep/spec.ts";
import { userErrorOf } from "../user-error.ts";

const userErrorMessage = (fn: () => unknown): string => userErrorOf(fn).message;

describe("--vary ranges", () => {
  it("expands the issue's utilisation range to exactly ten values, END included, no float drift", () => {
    // 0.5, 0.55, …, 0.95: (0.95 − 0.5) / 0.05 = 9 steps → 10 values, written out by hand.
    expect(parseVary("gpu-memory-utilization=0.5:0.95:0.05")).toEqual({
      name: "gpu-memory-utilization",
      values: [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
    });
  });

  it("keeps END when naive division falls just short of an integer", () => {
    // (0.3 − 0.1) / 0.1 = 1.9999999999999998 in IEEE doubles; the range must still end at 0.3.
    expect((0.3 - 0.1) / 0.1).toBeLessThan(2);
    expect(parseVary("gpu-memory-utilization=0.1:0.3:0.1").values).toEqual([0.1, 0.2, 0.3]);
  });

  it("stops at the last grid value below an off-grid END", () => {
    expect(parseVary("max-num-seqs=64:300:64").values).toEqual([64, 128, 192, 256]);
  });

  it("reads sizes in ranges with their units", () => {
    // 10, 11, 12 GiB = 10·2^30, 11·2^30, 12·2^30 bytes.
    expect(parseVary("kv-cache-memory=10GiB:12GiB:1GiB").values).toEqual([10737418240, 11811160064, 12884901888]);
  });

  it("counts decimals as written", () => {
    expect(decimalsOf("0.05")).toBe(2);
    expect(decimalsOf("5")).toBe(0);
    expect(decimalsOf("1e-3")).toBe(3);
    expect(decimalsOf("2.5e-1")).toBe(2);
  });
});

describe("--vary lists", () => {
  it("parses ints, names and booleans", () => {
    expect(parseVary("max-num-seqs=64,128,256").values).toEqual([64, 128, 256]);
    expect(parseVary("gpu=H100-SXM-80GB,A100-SXM-80GB,L40S-48GB").values).toEqual(["H100-SXM-80GB", "A100-SXM-80GB", "L40S-48GB"]);
    expect(parseVary("enable-prefix-caching=true,false").values).toEqual([true, false]);
    expect(parseVary("step-time=10ms,0.02").values).toEqual([0.01, 0.02]);
  });
});

describe("--vary errors name the flag and what is wrong", () => {
  it.each([
    ["gpu-mem-util=0.5,0.9", /unknown parameter "gpu-mem-util"; did you mean gpu-memory-utilization/],
    ["gpu-memory-utilization=0.5:0.9:0", /STEP must be positive/],
    ["gpu-memory-utilization=0.9:0.5:0.1", /END 0.5 is below START 0.9/],
    ["gpu-memory-utilization=0.5,1.2", /1.2 is above 1/],
    ["max-num-seqs=1.5", /expected an integer, got "1.5"/],
    ["max-num-seqs=64,64", /value 64 is listed twice/],
    ["gpu=H100:A100:1", /takes a list/],
    ["max-num-seqs", /expected NAME=START:END:STEP/],
    ["max-num-seqs=", /no values given/],
    ["kv-cache-dtype=fp4", /"fp4" is not one of auto, fp8/],
    ["gpu-memory-utilization=0.5:0.9:0.00001", /40001 values is more than 10000/],
  ])("%s", (text, re) => {
    expect(userErrorMessage(() => parseVary(text))).toMatch(re);
  });

  it("rejects a parameter given twice", () => {
    expect(userErrorMessage(() => parseVaryList(["max-num-seqs=1,2", "max-num-seqs=3"]))).toMatch(/given twice/);
  });
});

describe("cartesian product", () => {
  const vary = parseVaryList([
    "gpu-memory-utilization=0.5:0.95:0.05",
    "max-num-seqs=64,128,256",
    "gpu=H100-SXM-80GB,A100-SXM-80GB,L40S-48GB",
    "tensor-parallel-size=1,2",
  ]);

  it("has 10 × 3 × 3 × 2 = 180 points for the issue's example", () => {
    expect(productSize(vary)).toBe(180);
    expect(cartesianProduct(vary)).toHaveLength(180);
  });

  it("varies the last flag fastest", () => {
    expect(pointParams(vary, 0)).toEqual({ "gpu-memory-utilization": 0.5, "max-num-seqs": 64, gpu: "H100-SXM-80GB", "tensor-parallel-size": 1 });
    expect(pointParams(vary, 1)).toEqual({ "gpu-memory-utilization": 0.5, "max-num-seqs": 64, gpu: "H100-SXM-80GB", "tensor-parallel-size": 2 });
    // index 18 = 1·(3·3·2): the second utilisation value with everything else first.
    expect(pointParams(vary, 18)).toEqual({ "gpu-memory-utilization": 0.55, "max-num-seqs": 64, gpu: "H100-SXM-80GB", "tensor-parallel-size": 1 });
    expect(pointParams(vary, 179)).toEqual({ "gpu-memory-utilization": 0.95, "max-num-seqs": 256, gpu: "L40S-48GB", "tensor-parallel-size": 2 });
  });

  it("visits every combination exactly once (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), (sizes) => {
        const names = ["max-num-seqs", "block-size", "max-num-batched-tokens", "max-model-len"];
        const v = sizes.map((n, k) => ({ name: names[k], values: Array.from({ length: n }, (_, i) => (i + 1) * 16) }));
        const pts = cartesianProduct(v).map((p) => JSON.stringify(p));
        expect(pts.length).toBe(sizes.reduce((a, b) => a * b, 1));
        expect(new Set(pts).size).toBe(pts.length);
      }),
    );
  });
});

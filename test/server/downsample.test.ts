import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { downsampleSnapshots } from "../../server/stream/downsample.ts";
import type { MemorySnapshot } from "../../sim/serving/types.ts";

function snap(t: number, kvUsedBytes: number): MemorySnapshot {
  return {
    t, weightsBytes: 0, activationBytes: 0, nonTorchBytes: 0, kvUsedBytes, kvCachedFreeBytes: 0, kvFreeBytes: 0,
    numUsedBlocks: 0, numCachedFreeBlocks: 0, numFreeBlocks: 0, kvUsage: 0, numRunning: 0, numWaiting: 0,
  };
}

describe("downsampleSnapshots", () => {
  it("keeps a short series unchanged", () => {
    const s = [snap(0, 1), snap(1, 2)];
    expect(downsampleSnapshots(s, 5)).toEqual({ kept: s, dropped: 0 });
  });

  it("keeps first, last and the spike of each bucket", () => {
    // 12 points, max 5 → first, last and 3 buckets over points 1..10: [1..4), [4..7), [7..11).
    // Worked by hand: bucket b spans 1 + floor(b·10/3) .. 1 + floor((b+1)·10/3) = [1,4), [4,7), [7,11).
    const used = [0, 5, 9, 1, 2, 3, 7, 4, 4, 100, 4, 0];
    const s = used.map((u, i) => snap(i, u));
    const { kept, dropped } = downsampleSnapshots(s, 5);
    expect(kept.map((k) => k.t)).toEqual([0, 2, 6, 9, 11]);
    expect(dropped).toBe(7);
  });

  it("DS-1 and DS-2: ≤ max points, kept + dropped = input, time order kept, the global peak kept (max ≥ 3)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 3, max: 50 }), (used, max) => {
        const s = used.map((u, i) => snap(i, u));
        const { kept, dropped } = downsampleSnapshots(s, max);
        expect(kept.length).toBeLessThanOrEqual(max);
        expect(kept.length + dropped).toBe(s.length);
        for (let i = 1; i < kept.length; i++) expect(kept[i].t).toBeGreaterThan(kept[i - 1].t);
        const peak = Math.max(...used);
        expect(kept.some((k) => k.kvUsedBytes === peak)).toBe(true);
      }),
      { numRuns: 300, seed: 1 },
    );
  });
});

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseShard, shardIndices } from "../../sim/sweep/shard.ts";

describe("--shard i/n", () => {
  it("parses 0-based shards", () => {
    expect(parseShard("0/4")).toEqual({ index: 0, count: 4 });
    expect(parseShard(" 3 / 4 ")).toEqual({ index: 3, count: 4 });
  });

  it.each([
    ["4/4", /must be below n \(4\)/],
    ["1/0", /at least 1/],
    ["a/b", /expected i\/n/],
    ["1", /expected i\/n/],
  ])("rejects %s", (text, re) => {
    expect(() => parseShard(text)).toThrow(re);
  });

  it("runs every n-th point", () => {
    expect(shardIndices(10, { index: 1, count: 3 })).toEqual([1, 4, 7]);
    expect(shardIndices(10, { index: 0, count: 3 })).toEqual([0, 3, 6, 9]);
    expect(shardIndices(2, { index: 3, count: 5 })).toEqual([]);
    expect(shardIndices(3, null)).toEqual([0, 1, 2]);
  });

  it("shards partition the points (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 17 }), (total, n) => {
        const all = Array.from({ length: n }, (_, i) => shardIndices(total, { index: i, count: n })).flat();
        expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      }),
    );
  });
});

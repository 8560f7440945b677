import { describe, expect, it } from "vitest";
import { Rng, gammaArrivals, parseLengthDist, synthesize, type SynthSpec } from "../../sim/traces/index.ts";

const base: SynthSpec = {
  numRequests: 200,
  requestRate: 10,
  seed: 7,
  promptLen: { kind: "fixed", value: 100 },
  outputLen: { kind: "fixed", value: 20 },
};

function cv(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
  return Math.sqrt(v) / m;
}

describe("Rng (xoshiro128**)", () => {
  it("matches the reference C implementation from state {1,2,3,4}", () => {
    // gcc of Blackman & Vigna's xoshiro128starstar.c next() with s = {1, 2, 3, 4}:
    // 11520 0 5927040 70819200 2031721883 1637235492 1287239034 3734860849
    const r = Rng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 8 }, () => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it("gamma(k) has mean k and variance k (50k draws, seeded)", () => {
    for (const k of [0.25, 1, 4]) {
      const r = new Rng(11);
      const xs = Array.from({ length: 50000 }, () => r.gamma(k));
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
      expect(Math.abs(m - k) / k).toBeLessThan(0.03);
      expect(Math.abs(v - k) / k).toBeLessThan(0.08);
    }
  });
});

describe("gammaArrivals (vllm bench serve's process)", () => {
  it("the last of N requests arrives exactly at N/R after rescaling", () => {
    const t = gammaArrivals(1000, 8, 1, new Rng(1));
    expect(t.at(-1)).toBeCloseTo(1000 / 8, 9);
    expect(t[0]).toBeGreaterThan(0); // vLLM draws a gap before the first request too
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]);
  });

  it("burstiness b gives inter-arrival gaps with coefficient of variation 1/√b", () => {
    // Gamma(shape b) has CV 1/√b: b = 1 → 1 (Poisson), b = 0.25 → 2, b = 4 → 0.5.
    for (const [b, want] of [[1, 1], [0.25, 2], [4, 0.5]] as const) {
      const t = gammaArrivals(20000, 5, b, new Rng(3));
      const gaps = t.map((x, i) => (i === 0 ? x : x - t[i - 1]));
      expect(Math.abs(cv(gaps) - want) / want).toBeLessThan(0.05);
    }
  });

  it("burstiness inf gives constant gaps 1/R", () => {
    expect(gammaArrivals(4, 2, Infinity, new Rng(0))).toEqual([0.5, 1, 1.5, 2]);
  });

  it("rate inf puts every request at 0", () => {
    expect(gammaArrivals(3, Infinity, 1, new Rng(0))).toEqual([0, 0, 0]);
  });
});

describe("synthesize", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = synthesize(base), b = synthesize(base), c = synthesize({ ...base, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBe(200);
    expect(a.at(-1)!.arrival).toBeCloseTo(200 / 10, 9);
  });

  it("multi-turn sessions with a shared system prompt: exact prompt lengths and prefix ids", () => {
    // prefix 64 tokens = 4 chunks of 16 (ids 0–3, shared); turn t prompt = 64 + t·(100 + 20) + 100 → 164, 284, 404;
    // the ids cover the answer too (the next turn repeats it): ⌈(164+20)/16⌉ = 12, ⌈304/16⌉ = 19, ⌈424/16⌉ = 27.
    const reqs = synthesize({ ...base, numRequests: 10, turns: 3, systemPromptTokens: 64, turnGapSeconds: 2 });
    expect(reqs.length).toBe(10); // sessions of 3, 3, 3, 1
    const bySession = new Map<string, typeof reqs>();
    for (const r of reqs) bySession.set(r.sessionId!, [...(bySession.get(r.sessionId!) ?? []), r]);
    expect([...bySession.values()].map((s) => s.length).sort()).toEqual([1, 3, 3, 3]);
    for (const s of bySession.values()) {
      expect(s.map((r) => r.promptTokens)).toEqual([164, 284, 404].slice(0, s.length));
      expect(s.map((r) => r.hashIds!.length)).toEqual([12, 19, 27].slice(0, s.length));
      expect(s.every((r) => r.hashIdsCoverOutput === true)).toBe(true);
      for (let t = 1; t < s.length; t++) expect(s[t].hashIds!.slice(0, s[t - 1].hashIds!.length)).toEqual(s[t - 1].hashIds);
      expect(s[0].hashIds!.slice(0, 4)).toEqual([0, 1, 2, 3]);
    }
    // Chunk 4 (tokens 64–79) belongs to each session alone.
    const fifth = new Set([...bySession.values()].map((s) => s[0].hashIds![4]));
    expect(fifth.size).toBe(4);
  });

  it("a system prompt that is not a multiple of the chunk size shares only its full chunks", () => {
    // 40 tokens → 2 full chunks (ids 0, 1) shared; chunk 2 (tokens 32–47) mixes system and user tokens: unique.
    const reqs = synthesize({ ...base, numRequests: 5, systemPromptTokens: 40 });
    expect(reqs.every((r) => r.hashIds![0] === 0 && r.hashIds![1] === 1)).toBe(true);
    expect(new Set(reqs.map((r) => r.hashIds![2])).size).toBe(5);
    expect(reqs[0].promptTokens).toBe(140);
  });

  it("several system prompts and priority classes", () => {
    const reqs = synthesize({ ...base, numRequests: 4000, systemPromptTokens: 32, numSystemPrompts: 3, priorityWeights: [1, 3] });
    const firstIds = new Set(reqs.map((r) => r.hashIds![0]));
    expect([...firstIds].sort()).toEqual([0, 2, 4]); // prompt k owns ids 2k, 2k+1
    const share1 = reqs.filter((r) => r.priority === 1).length / reqs.length;
    expect(Math.abs(share1 - 0.75)).toBeLessThan(0.03);
    expect(synthesize({ ...base, priorityWeights: [0, 1] }).every((r) => r.priority === 1)).toBe(true);
  });

  it("length distributions: uniform bounds, lognormal median, empirical values, joint pairs", () => {
    const u = synthesize({ ...base, numRequests: 5000, promptLen: { kind: "uniform", min: 10, max: 20 } });
    const ps = u.map((r) => r.promptTokens);
    expect(Math.min(...ps)).toBe(10);
    expect(Math.max(...ps)).toBe(20);
    const l = synthesize({ ...base, numRequests: 20001, promptLen: { kind: "lognormal", median: 1000, sigma: 1 } });
    const sorted = l.map((r) => r.promptTokens).sort((a, b) => a - b);
    expect(Math.abs(sorted[10000] - 1000) / 1000).toBeLessThan(0.05);
    const e = synthesize({ ...base, numRequests: 500, outputLen: { kind: "empirical", values: [3, 5, 8] } });
    expect(new Set(e.map((r) => r.outputTokens))).toEqual(new Set([3, 5, 8]));
    const j = synthesize({ ...base, numRequests: 500, pairs: [[11, 1], [22, 2]] });
    expect(j.every((r) => r.outputTokens * 11 === r.promptTokens)).toBe(true);
  });

  it("parses length specs and rejects bad ones with the flag name", () => {
    expect(parseLengthDist("512", "--input-len")).toEqual({ kind: "fixed", value: 512 });
    expect(parseLengthDist("uniform:1:9", "--input-len")).toEqual({ kind: "uniform", min: 1, max: 9 });
    expect(parseLengthDist("lognormal:800:0.7:4096", "--input-len")).toEqual({ kind: "lognormal", median: 800, sigma: 0.7, max: 4096 });
    expect(() => parseLengthDist("uniform:9:1", "--input-len")).toThrow("--input-len: MAX (1) is below MIN (9)");
    expect(() => parseLengthDist("zipf:3", "--output-len")).toThrow("--output-len: expected N, fixed:N, uniform:MIN:MAX");
    expect(() => synthesize({ ...base, numRequests: 0 })).toThrow("--num-prompts: expected an integer ≥ 1, got 0");
  });
});

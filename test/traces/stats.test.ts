import { describe, expect, it } from "vitest";
import { TraceStats, lengthStats, parseTraceText } from "../../sim/traces/index.ts";
import { openTrace } from "../../cli/io/trace-file.ts";
import { sample } from "./helpers.ts";

async function inspect(name: string) {
  const { requests, report } = openTrace(sample(name));
  const st = new TraceStats();
  for await (const r of requests) st.add(r);
  return st.summary(report);
}

describe("trace inspect statistics", () => {
  it("Azure 2023 conversation: nearest-rank percentiles", async () => {
    // python: v=sorted(int(r[col]) for r in csv.DictReader(...)); p(q)=v[ceil(q*n/100)-1]
    //   ContextTokens: sum 22361870, p50 1020, p90 2735, p99 4142, max 14050, min 2
    //   GeneratedTokens: sum 4088665, p50 129, p90 424, p99 601, max 1000, min 7
    const s = await inspect("azure-2023-conv.csv");
    expect(s.format).toBe("azure");
    expect(s.requests).toBe(19366);
    expect(s.durationSeconds).toBe(3501.721937);
    expect(s.promptTokens).toEqual({ sum: 22361870, mean: 22361870 / 19366, min: 2, p50: 1020, p90: 2735, p99: 4142, max: 14050 });
    expect(s.outputTokens).toMatchObject({ sum: 4088665, min: 7, p50: 129, p90: 424, p99: 601, max: 1000 });
    expect(s.prefixReuseRatio).toBeNull();
    // 3502 s of arrivals in 60 s buckets → 59 buckets summing to every request.
    expect(s.rateOverTime.bucketSeconds).toBe(60);
    expect(s.rateOverTime.counts.length).toBe(59);
    expect(s.rateOverTime.counts.reduce((a, b) => a + b, 0)).toBe(19366);
  });

  it("Mooncake: prefixReuseRatio = hash ids already seen / all hash ids", async () => {
    // python: for each id in order, count reused if seen before → total 54559, reused 15771.
    const s = await inspect("mooncake-conversation-first2000.jsonl");
    expect(s.hashBlocks).toEqual({ total: 54559, reused: 15771 });
    expect(s.prefixReuseRatio).toBe(15771 / 54559);
    // gzip synthetic trace: total 121877, reused 77953.
    const g = await inspect("mooncake-synthetic.jsonl.gz");
    expect(g.hashBlocks).toEqual({ total: 121877, reused: 77953 });
  });

  it("skippedLines and dropped rows are reported", async () => {
    const b = await inspect("burstgpt-1-first400.csv");
    expect(b.droppedRows).toBe(17);
    const t = parseTraceText("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.0,1,1\n2023-11-16 18:17:04.0,0,1\n", { fileName: "z.csv" });
    const st = new TraceStats();
    for (const r of t.requests) st.add(r);
    const s = st.summary(t.report);
    expect(s.skippedLines).toEqual({
      count: 1,
      reasons: [{ location: "z.csv:3", field: "ContextTokens", message: 'ContextTokens: expected a positive token count, found "0"' }],
    });
  });

  it("lengthStats by hand", () => {
    // values 1,2,3,4,100: n=5, p50 rank ⌈2.5⌉=3 → 3, p90 rank ⌈4.5⌉=5 → 100, p99 rank ⌈4.95⌉=5 → 100
    const h = new Map([[1, 1], [2, 1], [3, 1], [4, 1], [100, 1]]);
    expect(lengthStats(h, 5)).toEqual({ sum: 110, mean: 22, min: 1, p50: 3, p90: 100, p99: 100, max: 100 });
  });
});

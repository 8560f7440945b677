import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSweepParallel } from "../../cli/sweep-pool.ts";
import { runSweepSequential } from "../../sim/sweep/run.ts";
import { parseVaryList } from "../../sim/sweep/spec.ts";
import type { SweepResult, SweepSpec } from "../../sim/sweep/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";

/**
 * A small real sweep: 120 requests (1000 prompt + 200 output tokens, one every 50 ms) of Llama-3.1-8B on an
 * H100-SXM-80GB, over utilisation 0.25 / 0.3 / 0.4 and TP 1 / 3. Infeasible points must be reported with their
 * reason, not dropped: TP 3 does not divide 32 heads, and 0.25 × 79.19 GiB = 19.80 GiB is less than weights
 * (14.96 GiB) + activation peak + non-torch memory, leaving no KV room.
 */
const trace: TraceRequest[] = Array.from({ length: 120 }, (_, i) => ({ arrival: i * 0.05, promptTokens: 1000, outputTokens: 200 }));
const spec: SweepSpec = {
  base: { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100-SXM-80GB", maxModelLen: 4096 },
  vary: parseVaryList(["gpu-memory-utilization=0.25,0.3,0.4", "tensor-parallel-size=1,3"]),
  slo: { ttftP99: 2, tpotP99: 0.1 },
  prices: { "H100-SXM-80GB": 2.49 },
};

describe("a real sweep end to end", () => {
  const seq = runSweepSequential(spec, trace);

  it("reports every point, infeasible ones with their reason", () => {
    expect(seq.points.map((p) => [p.index, p.feasible])).toEqual([
      [0, false],
      [1, false],
      [2, true],
      [3, false],
      [4, true],
      [5, false],
    ]);
    // vLLM's wording for a budget with no KV room, with the arithmetic: 79.19 GiB × 0.25 = 19.80 GiB.
    expect(seq.points[0].reason).toMatch(/No available memory for the cache blocks/);
    expect(seq.points[0].reason).toContain("79.19 GiB × 0.25 = 19.80 GiB");
    expect(seq.points[1].reason).toMatch(/--tensor-parallel-size 3: the number of attention heads \(32\).*must be divisible/);
  });

  it("computes the memory budget and cost from the GPU preset and the price", () => {
    // H100-SXM-80GB = round(79.19 × 2^30) = 85,029,615,043 B; × 0.3 = 25,508,884,512.9 → 25,508,884,513 B.
    const m = seq.points[2].metrics!;
    expect(m.memoryBudgetBytes).toBe(25508884513);
    expect(m.numGpus).toBe(1);
    // 120 requests × 200 output tokens = 24,000 tokens; $/M = 2.49 / (tokens/s × 3600) × 1e6.
    expect(m.throughput.outputTokensPerS * m.simulatedSeconds).toBeCloseTo(24000, 6);
    expect(m.costPerMillionOutputTokens!).toBeCloseTo((2.49 / (m.throughput.outputTokensPerS * 3600)) * 1e6, 12);
    expect(m.completed).toBe(120);
  });

  it("the worker pool gives exactly the sequential result", async () => {
    const par = await runSweepParallel(spec, trace, { workers: 2 });
    expect(par).toEqual(seq);
  }, 60_000);

  it("the CLI's shards merge back into the whole sweep", () => {
    const dir = mkdtempSync(join(tmpdir(), "vs-sweep-"));
    const file = join(dir, "trace.jsonl");
    writeFileSync(file, trace.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const cli = (args: string[]) => execFileSync(process.execPath, ["bin/vramscope.mjs", ...args], { encoding: "utf8" });
    const common = [
      "sweep",
      file,
      "--max-model-len",
      "4096",
      "--vary",
      "gpu-memory-utilization=0.25,0.3,0.4",
      "--vary",
      "tensor-parallel-size=1,3",
      "--slo-ttft-p99",
      "2s",
      "--slo-tpot-p99",
      "100ms",
      "--gpu-hour-price",
      "h100-sxm-80gb=2.49",
      "--json",
      "--workers",
      "0",
    ];
    const whole = JSON.parse(cli(common)) as SweepResult;
    expect(whole.points.map((p) => p.metrics?.ttft.p99 ?? null)).toEqual(seq.points.map((p) => p.metrics?.ttft.p99 ?? null));
    expect(whole.recommendation.point?.index).toBe(seq.recommendation.point?.index);
    const shards = [0, 1].map((i) => {
      const out = join(dir, `shard-${i}.json`);
      writeFileSync(out, cli([...common, "--shard", `${i}/2`]));
      return out;
    });
    expect((JSON.parse(cli(["sweep", "merge", ...shards, "--json"])) as SweepResult).points).toEqual(whole.points);
    const merged = JSON.parse(cli(["sweep", "merge", ...shards, "--json"]));
    expect(merged).toEqual({ ...whole, shard: null });
    // A missing shard is an error naming it, exit code 2.
    let err: { status?: number; stderr?: string } = {};
    try {
      cli(["sweep", "merge", shards[0]]);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).toBe(2);
    expect(String(err.stderr)).toMatch(/3 of 6 points missing \(first: #1, #3, #5\); missing shard\(s\) 1\/2/);
  }, 120_000);
});

/**
 * Sweep wall time on 1 vs 2 worker threads: 20 points (gpu-memory-utilization 0.3…0.75 × max-num-seqs 128, 512)
 * over the 10k-request workload (target ≤ 5 s). Worker start-up (tsx loading the engine) is included, as a user
 * pays it. Run: node --import tsx bench/sweep.ts [requests]
 */
import { pathToFileURL } from "node:url";
import { runSweepParallel } from "../cli/sweep-pool.ts";
import { parseVaryList } from "../sim/sweep/spec.ts";
import type { SweepSpec } from "../sim/sweep/types.ts";
import { BENCH_CONFIG, benchTrace } from "./workload.ts";

export interface SweepBenchResult {
  points: number;
  requests: number;
  seconds: Record<number, number>;
  speedup: number;
}

export async function run(n = 10_000, workers = [1, 2]): Promise<SweepBenchResult> {
  const trace = benchTrace(n);
  const spec: SweepSpec = {
    base: { ...BENCH_CONFIG },
    vary: parseVaryList(["gpu-memory-utilization=0.3:0.75:0.05", "max-num-seqs=128,512"]),
    slo: { ttftP99: 2, tpotP99: 0.1 },
    prices: {},
  };
  const seconds: Record<number, number> = {};
  let points = 0;
  for (const w of workers) {
    const t0 = performance.now();
    const r = await runSweepParallel(spec, trace, { workers: w });
    seconds[w] = (performance.now() - t0) / 1000;
    points = r.points.length;
    process.stdout.write(`sweep ${points} points × ${n.toLocaleString("en-US")} requests on ${w} worker(s): ${seconds[w].toFixed(2)} s\n`);
  }
  const speedup = seconds[workers[0]] / seconds[workers[workers.length - 1]];
  process.stdout.write(`sweep speed-up ${workers[0]} → ${workers[workers.length - 1]} workers: ×${speedup.toFixed(2)} (target: 20 points ≤ 5 s)\n`);
  return { points, requests: n, seconds, speedup };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run(process.argv[2] ? Number(process.argv[2]) : undefined);
}

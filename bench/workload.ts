import { synthesize } from "../sim/traces/synth.ts";
import type { TraceRequest } from "../sim/traces/types.ts";

/**
 * The benchmarks' workload: Llama-3.1-8B on one H100 at a load it sustains (lognormal prompts of median 1000
 * tokens, outputs of median 200, Poisson arrivals at 10 req/s), so the figures measure the simulator, not a
 * pathological queue. Deterministic (seed 7).
 */
export const BENCH_CONFIG = { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100-SXM-80GB", maxModelLen: 16384 } as const;

export function benchTrace(numRequests: number, seed = 7): TraceRequest[] {
  return synthesize({
    numRequests,
    requestRate: 10,
    seed,
    promptLen: { kind: "lognormal", median: 1000, sigma: 0.8, max: 12000 },
    outputLen: { kind: "lognormal", median: 200, sigma: 0.8, max: 2000 },
  });
}

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isUserError } from "../../sim/errors.ts";
import { resolveGpu } from "../../sim/hardware/registry.ts";
import { resolveModel } from "../../sim/model/registry.ts";
import { DEFAULT_ALGORITHM_OPTIONS, type RlAlgorithm } from "../../sim/rl/algorithms.ts";
import { simulateRl } from "../../sim/rl/index.ts";
import type { RlConfig, RlReport, RolloutSleepLevel } from "../../sim/rl/types.ts";

const model = resolveModel("Qwen/Qwen2.5-1.5B-Instruct");
const gpu = resolveGpu("H100-SXM-80GB");

const arbConfig = fc.record({
  algorithm: fc.constantFrom<RlAlgorithm>("ppo", "dpo", "grpo", "cai"),
  placement: fc.constantFrom<"colocate" | "separate">("colocate", "separate"),
  sleepLevel: fc.constantFrom<RolloutSleepLevel>(0, 1, 2),
  util: fc.constantFrom(0.6, 0.75, 0.9),
  numGenerations: fc.integer({ min: 2, max: 6 }),
  beta: fc.constantFrom(0, 0.04),
  promptLen: fc.integer({ min: 16, max: 300 }),
  responseLen: fc.integer({ min: 16, max: 300 }),
  prompts: fc.integer({ min: 1, max: 12 }),
  microBatch: fc.integer({ min: 1, max: 4 }),
  zeroStage: fc.constantFrom(0, 3),
});

type Drawn = typeof arbConfig extends fc.Arbitrary<infer T> ? T : never;

function build(a: Drawn, over: Partial<RlConfig> = {}): RlConfig {
  return {
    ...DEFAULT_ALGORITHM_OPTIONS,
    algorithm: a.algorithm,
    model,
    gpu,
    numGpus: 2,
    placement: a.placement,
    rollout: { gpuMemoryUtilization: a.util, tensorParallelSize: 1, sleepLevel: a.sleepLevel, accounting: "shared", enablePrefixCaching: true, maxNumBatchedTokens: 2048, stepTimeS: 0.01 },
    numGenerations: a.numGenerations,
    beta: a.beta,
    promptLen: a.promptLen,
    responseLen: a.responseLen,
    rolloutBatchSize: a.prompts,
    training: { microBatchSize: a.microBatch, extra: { zeroStage: a.zeroStage, activationCheckpointing: "full" } },
    offloadTrainStatesDuringRollout: false,
    offloadFrozenRoles: false,
    seed: 0,
    ...over,
  };
}

/** Runs a config; a UserError (e.g. no room for the KV cache) is a legitimate outcome and yields null. */
function run(c: RlConfig): RlReport | null {
  try {
    return simulateRl(c);
  } catch (e) {
    if (isUserError(e)) return null;
    throw e;
  }
}

describe("RL properties", { timeout: 120_000 }, () => {
  it("every event's roles and components sum to its total; the peak is an event's; fits matches the peak", () => {
    fc.assert(
      fc.property(arbConfig, (a) => {
        const r = run(build(a));
        if (!r) return;
        for (const e of r.timeline) {
          expect(Object.values(e.byRole).reduce((s, v) => s + v, 0)).toBe(e.total);
          expect(Object.values(e.byComponent).reduce((s, v) => s + (v ?? 0), 0)).toBe(e.total);
        }
        expect(r.timeline.some((e) => e.total === r.peakBytesPerGpu && e.phase === r.peakPhase)).toBe(true);
        expect(r.fits).toBe(r.groups.every((g) => g.peakBytesPerGpu <= gpu.memoryBytes));
        if (r.rollout) expect(r.rollout.summary.completed).toBe(r.rollout.requestsPerReplica);
      }),
      { numRuns: 25, seed: 42 },
    );
  });
  // With sleep level 0 it can: the KV cache is sized without the trainer's states, which come back while the engine
  // stays awake (see the 'offload without sleep' test in simulate.test.ts). Sleeping engines only.
  it("offloading trainer states while generating (engine sleeping) never raises the peak or shrinks the KV cache", () => {
    fc.assert(
      fc.property(arbConfig.filter((a) => a.algorithm !== "dpo" && a.sleepLevel !== 0), (a) => {
        const on = run(build({ ...a, placement: "colocate" }, { offloadTrainStatesDuringRollout: true }));
        const off = run(build({ ...a, placement: "colocate" }));
        if (!off) return; // the offloaded run has at least as much room
        expect(on).not.toBeNull();
        expect(on!.peakBytesPerGpu).toBeLessThanOrEqual(off.peakBytesPerGpu);
        expect(on!.rollout!.kvCacheTokens).toBeGreaterThanOrEqual(off.rollout!.kvCacheTokens);
      }),
      { numRuns: 15, seed: 7 },
    );
  });
  it("GRPO with β > 0 holds a reference and never needs less memory than with β = 0", () => {
    fc.assert(
      fc.property(arbConfig, (a) => {
        const with0 = run(build({ ...a, algorithm: "grpo", beta: 0 }));
        const withKl = run(build({ ...a, algorithm: "grpo", beta: 0.04 }));
        if (!with0 || !withKl) return;
        expect(with0.roles.some((x) => x.name === "reference")).toBe(false);
        expect(withKl.roles.some((x) => x.name === "reference")).toBe(true);
        expect(withKl.peakBytesPerGpu).toBeGreaterThanOrEqual(with0.peakBytesPerGpu);
      }),
      { numRuns: 15, seed: 3 },
    );
  });
});

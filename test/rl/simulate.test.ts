import { describe, expect, it } from "vitest";
import { resolveGpu } from "../../sim/hardware/registry.ts";
import { resolveModel } from "../../sim/model/registry.ts";
import { DEFAULT_ALGORITHM_OPTIONS } from "../../sim/rl/algorithms.ts";
import { simulateRl } from "../../sim/rl/index.ts";
import { drawResponseLengths } from "../../sim/rl/memory.ts";
import { rolloutRequests } from "../../sim/rl/rollout-requests.ts";
import type { RlConfig, RlReport } from "../../sim/rl/types.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { replay } from "../../sim/serving/engine.ts";
import { trainingTimeline } from "../../sim/training/timeline.ts";
import { GiB } from "../../sim/units.ts";
import { userErrorOf } from "../user-error.ts";

const qwen15 = resolveModel("Qwen/Qwen2.5-1.5B-Instruct");
const h100 = resolveGpu("H100-SXM-80GB");

function config(over: Partial<RlConfig> = {}): RlConfig {
  return {
    ...DEFAULT_ALGORITHM_OPTIONS,
    algorithm: "grpo",
    model: qwen15,
    gpu: h100,
    numGpus: 1,
    placement: "colocate",
    rollout: { gpuMemoryUtilization: 0.6, tensorParallelSize: 1, sleepLevel: 1, accounting: "shared", enablePrefixCaching: true, maxNumBatchedTokens: 4096, stepTimeS: 0.02 },
    numGenerations: 8,
    promptLen: 512,
    responseLen: 512,
    rolloutBatchSize: 64,
    training: { microBatchSize: 4, extra: { activationCheckpointing: "full" } },
    offloadTrainStatesDuringRollout: false,
    offloadFrozenRoles: false,
    seed: 0,
    ...over,
  };
}

const roleNames = (r: RlReport) => r.roles.map((x) => x.name);
const errorOf = userErrorOf;

describe("which models are in memory", { timeout: 120_000 }, () => {
  it("GRPO with β = 0 holds no reference; with β > 0 it holds one", () => {
    expect(roleNames(simulateRl(config({ beta: 0 })))).toEqual(["policy", "rollout-engine"]);
    const withKl = simulateRl(config({ beta: 0.04 }));
    expect(roleNames(withKl)).toEqual(["policy", "reference", "rollout-engine"]);
    // The reference's weights: 1,543,714,304 params × 2 B = 3,087,428,608 B resident (ZeRO-0: a full copy).
    expect(withKl.roles.find((r) => r.name === "reference")!.residentBytesPerGpu).toBe(3_087_428_608);
  });
  it("DPO holds a reference unless its log-probs are precomputed, and runs no rollout engine", () => {
    const dpo = simulateRl(config({ algorithm: "dpo" }));
    expect(roleNames(dpo)).toEqual(["policy", "reference"]);
    expect(dpo.rollout).toBeNull();
    expect(dpo.phases.map((p) => p.name)).toEqual(["generate", "score", "train", "sync"].filter((p) => dpo.phases.some((q) => q.name === p)));
    const pre = simulateRl(config({ algorithm: "dpo", precomputeRefLogProbs: true }));
    expect(roleNames(pre)).toEqual(["policy"]);
  });
  it("PPO holds actor, reference, critic, reward and the rollout engine", () => {
    const r = simulateRl(config({ algorithm: "ppo", numGenerations: 1, numGpus: 2, training: { microBatchSize: 2, extra: { zeroStage: 3, activationCheckpointing: "full" } } }));
    expect(r.roles.map((x) => [x.name, x.kind])).toEqual([
      ["actor", "train"], ["reference", "inference"], ["critic", "train"], ["reward", "inference"], ["rollout-engine", "rollout"],
    ]);
  });
  it("CAI: generator + k critics + revision, or a revision shared with the generator", () => {
    const r = simulateRl(config({ algorithm: "cai", numGenerations: 1, numCritics: 3, offloadTrainStatesDuringRollout: true }));
    expect(roleNames(r)).toEqual(["generator", "critic-1", "critic-2", "critic-3", "revision", "rollout-engine"]);
    const shared = simulateRl(config({ algorithm: "cai", numGenerations: 1, numCritics: 3, revision: "shared", offloadTrainStatesDuringRollout: true }));
    expect(roleNames(shared)).toEqual(["generator", "critic-1", "critic-2", "critic-3", "rollout-engine"]);
  });
});

describe("colocated timeline composition", { timeout: 120_000 }, () => {
  const r = simulateRl(config());
  const policySteps = trainingTimeline({ model: qwen15, numGpus: 1, microBatchSize: 4, seqLen: 1024, gpu: h100, activationCheckpointing: "full" });
  const resident = Math.round(policySteps.events[0].bytes.total);

  it("'shared' accounting: once the KV cache is allocated the GPU holds exactly util × total (vLLM 0.7–0.8)", () => {
    // 0.6 × 79.19 GiB: the trainer's resident state plus the engine's weights, activations, non-torch and KV fill it.
    const wake = r.timeline.find((e) => e.label.startsWith("wake rollout engine"))!;
    expect(Math.abs(wake.total - 0.6 * 79.19 * GiB)).toBeLessThanOrEqual(2); // components rounded to whole bytes
    expect(r.rollout!.colocatedResidentBytes).toBe(resident);
  });
  it("the train phase peak is the training model's peak plus what stays on the GPU", () => {
    // Stays: the sleeping engine's non-torch residue and the rollout buffer's share (GRPO β = 0, 512 sequences of
    // 512 + 512: 3 × 8 × 1024 × 512 + 8 × 512 × 512 + 3 × 4 × 512 × 512 = 12,582,912 + 2,097,152 + 3,145,728).
    const nonTorch = r.timeline[0].byComponent.rolloutNonTorch!;
    const train = r.phases.find((p) => p.name === "train")!;
    expect(r.rolloutBuffer.totalBytes).toBe(17_825_792);
    expect(train.peakBytesPerGpu).toBe(Math.round(policySteps.peakBytes) + nonTorch + 17_825_792);
  });
  it("'instance' accounting: the engine's util × total comes on top of the trainer", () => {
    const inst = simulateRl(config({ rollout: { ...config().rollout, gpuMemoryUtilization: 0.3, accounting: "instance" } }));
    const wake = inst.timeline.find((e) => e.label.startsWith("wake rollout engine"))!;
    expect(Math.abs(wake.total - resident - 0.3 * 79.19 * GiB)).toBeLessThanOrEqual(2);
  });
  it("every event's roles and components sum to its total, and the peak is the largest event", () => {
    for (const e of r.timeline) {
      expect(Object.values(e.byRole).reduce((a, b) => a + b, 0)).toBe(e.total);
      expect(Object.values(e.byComponent).reduce((a, b) => a + (b ?? 0), 0)).toBe(e.total);
    }
    expect(r.peakBytesPerGpu).toBe(Math.max(...r.timeline.map((e) => e.total)));
    expect(r.fits).toBe(r.peakBytesPerGpu <= h100.memoryBytes);
  });
});

describe("the generate phase runs the serving simulator", { timeout: 120_000 }, () => {
  it("a tiny rollout KV budget preempts, and the count is the engine's own", () => {
    const cfg = config({ rollout: { ...config().rollout, gpuMemoryUtilization: 0.42 } });
    const r = simulateRl(cfg);
    const ro = r.rollout!;
    expect(ro.summary.preemptions).toBeGreaterThan(0);
    expect(r.notes.some((n) => n.startsWith(`the rollout engine preempted ${ro.summary.preemptions} times`))).toBe(true);
    // Replay the same 512 requests on an engine given the same KV bytes directly: identical preemptions.
    const serving = resolveServingConfig({
      model: qwen15, gpu: h100, gpuMemoryUtilization: 0.42, maxModelLen: 1024, maxNumBatchedTokens: 4096, stepTimeS: 0.02,
      kvCacheMemoryBytes: ro.kvCacheBytes,
    });
    const reqs = rolloutRequests({ numPrompts: 64, numGenerations: 8, promptLen: 512, responseLen: 512, numReplicas: 1, replica: 0 });
    const direct = replay(serving, reqs).summary();
    expect(ro.summary.preemptions).toBe(direct.preemptions);
    expect(ro.summary.recomputedTokens).toBe(direct.recomputedTokens);
    // 512 sequences × 1024 tokens need 512 × 64 blocks of 16; the budget holds fewer.
    expect(ro.kvCacheTokens).toBeLessThan(512 * 1024);
  });
  it("a roomy budget does not preempt, and G completions share their prompt's blocks", () => {
    const r = simulateRl(config({ rollout: { ...config().rollout, gpuMemoryUtilization: 0.9 } }));
    expect(r.rollout!.summary.preemptions).toBe(0);
    // 64 prompts × 8: the 7 later completions hit 31 of the prompt's 32 blocks (vLLM recomputes the last token):
    // 64 × 7 × 496 = 222,208 hit tokens.
    expect(r.rollout!.summary.prefixCacheHitTokens).toBe(222_208);
  });
});

describe("bad input", { timeout: 120_000 }, () => {
  it("G < 2 for GRPO names --num-generations", () => {
    const e = errorOf(() => simulateRl(config({ numGenerations: 1 })));
    expect(e.field).toBe("--num-generations");
    expect(e.message).toMatch(/^--num-generations: GRPO needs at least 2 completions per prompt/);
  });
  it("a reward model larger than the GPU names --reward-model", () => {
    const big = resolveModel("meta-llama/Llama-3.1-405B-Instruct");
    const e = errorOf(() => simulateRl(config({ algorithm: "ppo", numGenerations: 1, rewardModel: big })));
    expect(e.field).toBe("--reward-model");
    expect(e.message).toMatch(/^--reward-model: meta-llama\/Llama-3.1-405B-Instruct \(reward\) needs .* GiB per GPU for its weights alone, more than the 79.19 GiB/);
  });
  it("a rollout budget the colocated trainer already fills names --rollout-gpu-memory-utilization", () => {
    const e = errorOf(() => simulateRl(config({ rollout: { ...config().rollout, gpuMemoryUtilization: 0.3 } })));
    expect(e.field).toBe("--rollout-gpu-memory-utilization");
  });
  it("sequences longer than the model's context name --response-len", () => {
    // Qwen2.5-1.5B-Instruct: max_position_embeddings 32768.
    const e = errorOf(() => simulateRl(config({ promptLen: 30000, responseLen: 3000 })));
    expect(e.field).toBe("--response-len");
    expect(e.message).toMatch(/30000 \+ 3000 = 33000 tokens exceeds .* \(32768\)/);
  });
  it("rollout TP that does not divide the GPUs names --rollout-tensor-parallel-size", () => {
    const e = errorOf(() => simulateRl(config({ numGpus: 3, rollout: { ...config().rollout, tensorParallelSize: 2 } })));
    expect(e.field).toBe("--rollout-tensor-parallel-size");
  });
});

describe("placement and sleep", { timeout: 120_000 }, () => {
  it("separate: one group per role, each with its own GPUs and verdict", () => {
    const r = simulateRl(config({ placement: "separate", beta: 0.04, numGpus: 2, rollout: { ...config().rollout, gpuMemoryUtilization: 0.9, numGpus: 4 } }));
    expect(r.groups.map((g) => [g.name, g.numGpus])).toEqual([["policy", 2], ["reference", 2], ["rollout-engine", 4]]);
    expect(r.numGpusTotal).toBe(8);
    // The rollout group holds util × total from the start: 0.9 × 79.19 GiB, nothing colocated to subtract.
    // (Each component is rounded to whole bytes, so allow 2 B.)
    expect(Math.abs(r.groups[2].peakBytesPerGpu - 0.9 * 79.19 * GiB)).toBeLessThanOrEqual(2);
    expect(r.rollout!.colocatedResidentBytes).toBe(0);
    // 64 prompts over 4 engine replicas: 16 prompts × 8 completions each.
    expect(r.rollout!.numReplicas).toBe(4);
    expect(r.rollout!.requestsPerReplica).toBe(128);
    expect(r.peakBytesPerGpu).toBe(Math.max(...r.groups.map((g) => g.peakBytesPerGpu)));
    expect(r.fits).toBe(r.groups.every((g) => g.peakBytesPerGpu <= h100.memoryBytes));
  });
  it("sleep level 0 keeps the engine's whole reservation on the GPU through training", () => {
    const awake = simulateRl(config({ rollout: { ...config().rollout, sleepLevel: 0 } }));
    const asleep = simulateRl(config({ rollout: { ...config().rollout, sleepLevel: 1 } }));
    const trainPeak = (r: RlReport) => r.phases.find((p) => p.name === "train")!.peakBytesPerGpu;
    const engine = asleep.roles.find((x) => x.name === "rollout-engine")!;
    // Asleep, the engine keeps its non-torch residue only; awake, weights + activations + non-torch + KV
    // = 0.6 × 79.19 GiB − the trainer's resident state.
    expect(engine.residentBytesPerGpu).toBe(asleep.timeline[0].byComponent.rolloutNonTorch);
    // Level 1 parks the bf16 weights in CPU RAM: 1,543,714,304 params, vocab padded to a multiple of 64 (151,936
    // already is) → the engine's weights as the serving budget sizes them; level 2 discards them.
    expect(engine.cpuBytesPerGpu).toBe(asleep.timeline[0].byComponent.rolloutWeights);
    const level2 = simulateRl(config({ rollout: { ...config().rollout, sleepLevel: 2 } }));
    expect(level2.roles.find((x) => x.name === "rollout-engine")!.cpuBytesPerGpu).toBe(0);
    const expected = 0.6 * 79.19 * GiB - asleep.rollout!.colocatedResidentBytes - engine.residentBytesPerGpu;
    expect(Math.abs(trainPeak(awake) - trainPeak(asleep) - expected)).toBeLessThanOrEqual(2);
  });
});

describe("offload without sleep", { timeout: 120_000 }, () => {
  it("trainer states offloaded only while generating, engine awake: the update lands on top of a KV cache sized without them", () => {
    const r = simulateRl(config({ offloadTrainStatesDuringRollout: true, rollout: { ...config().rollout, sleepLevel: 0 } }));
    expect(r.rollout!.colocatedResidentBytes).toBe(0);
    expect(r.notes.some((n) => n.startsWith("trainer states are offloaded while generating but the engine never sleeps"))).toBe(true);
    // Train phase = the whole 0.6 × 79.19 GiB engine reservation + the policy's training peak + buffer.
    const policyPeak = r.roles.find((x) => x.name === "policy")!.bytesPerGpu;
    const train = r.phases.find((p) => p.name === "train")!.peakBytesPerGpu;
    expect(Math.abs(train - (0.6 * 79.19 * GiB + policyPeak + r.rolloutBuffer.bytesPerGpu))).toBeLessThanOrEqual(2);
  });
});

describe("--response-len-dist", { timeout: 120_000 }, () => {
  it("draws one capped length per completion, reproducibly per seed", () => {
    const c = config({ responseLenDist: { kind: "uniform", min: 100, max: 900 }, responseLen: 512 });
    const a = drawResponseLengths(c, 512);
    expect(a).toHaveLength(512);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...a)).toBe(512); // 900 is capped at max_tokens
    expect(drawResponseLengths(c, 512)).toEqual(a);
    expect(drawResponseLengths({ ...c, seed: 1 }, 512)).not.toEqual(a);
  });
  it("shorter completions fill less KV: never more preemptions than when all run to max_tokens", () => {
    const tight = { ...config().rollout, gpuMemoryUtilization: 0.42 };
    const fixed = simulateRl(config({ rollout: tight }));
    const varied = simulateRl(config({ rollout: tight, responseLenDist: { kind: "uniform", min: 1, max: 512 } }));
    expect(varied.rollout!.summary.completed).toBe(512);
    expect(varied.rollout!.summary.preemptions).toBeLessThanOrEqual(fixed.rollout!.summary.preemptions);
    expect(varied.rollout!.summary.simulatedSeconds).toBeLessThan(fixed.rollout!.summary.simulatedSeconds);
  });
});

import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { rlTrainingFlags } from "../../sim/rl/defaults.ts";
import { GiB } from "../../sim/units.ts";

/** Runs `vramscope rl …` as a user would. */
function rl(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/vramscope.mjs", "rl", ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const common = ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "H100-SXM-80GB", "--gpus", "8"];

describe("the RL sharding default", () => {
  it("ZeRO-3 over two or more data-parallel ranks, none on one, the user's stage when given", () => {
    expect(rlTrainingFlags({}, 8).zeroStage).toBe(3);
    expect(rlTrainingFlags({}, 2).zeroStage).toBe(3);
    expect(rlTrainingFlags({}, 1).zeroStage).toBe(0);
    expect(rlTrainingFlags({ tp: 8 }, 8).zeroStage).toBe(0); // 8 GPUs ÷ TP 8 = one data-parallel rank
    expect(rlTrainingFlags({ tp: 2 }, 8).zeroStage).toBe(3);
    expect(rlTrainingFlags({ zeroStage: 1 }, 8).zeroStage).toBe(1);
    expect(rlTrainingFlags({ pp: 2 }, 8).zeroStage).toBeUndefined(); // ZeRO-2/3 do not combine with PP
  });
});

describe("defaults on the common case: 7B, 8 × H100, colocated vLLM", { timeout: 120_000 }, () => {
  const runs: Record<string, ReturnType<typeof rl>> = {};
  beforeAll(() => {
    for (const algo of ["ppo", "dpo", "grpo", "cai"]) runs[algo] = rl("--algo", algo, ...common, "--json");
  }, 240_000);

  it.each(["ppo", "dpo", "grpo", "cai"])("%s gives a report with the peak and its phase", (algo) => {
    const r = runs[algo];
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.peakBytesPerGpu).toBeGreaterThan(0);
    expect(["generate", "score", "train", "sync"]).toContain(j.peakPhase);
    expect(typeof j.fits).toBe("boolean");
    expect(j.notes.some((n: string) => n.startsWith("trainer sharding: ZeRO-3 (FSDP full shard) over 8 data-parallel ranks"))).toBe(true);
  });

  it("GRPO's peak is the sharded trainer's resident state + the engine's own util × total + the buffer share", () => {
    const j = JSON.parse(runs.grpo.stdout);
    // Qwen2.5-7B (config.json: hidden 3584, 28 layers, intermediate 18944, 28 heads / 4 KV heads of 128, vocab
    // 152064, untied embeddings, q/k/v biases): per layer q 3584² + 3584, k and v 3584 × 512 + 512 each, o 3584²,
    // MLP 3 × 3584 × 18944, two norms 2 × 3584 = 233,057,792; × 28 = 6,525,618,176; + embed and LM head
    // 2 × 152064 × 3584 = 1,089,994,752; + final norm 3584 → Ψ = 7,615,616,512.
    const psi = 7_615_616_512;
    // ZeRO-3 over 8 ranks, between updates (gradients freed): bf16 params 2Ψ/8, Adam m and v 8Ψ/8, fp32 master
    // 4Ψ/8 = 1,903,904,128 + 7,615,616,512 + 3,807,808,256 = 13,327,328,896 B.
    const states = (2 * psi) / 8 + (8 * psi) / 8 + (4 * psi) / 8;
    expect(states).toBe(13_327_328_896);
    // + the trainer process's CUDA context (1343 MB, HF "model memory anatomy") and the 5 % allocator reserve.
    const policy = states + 1343e6 + 0.05 * states; // 15,336,695,340.8
    // The engine: 0.3 × 79.19 GiB (vLLM ≥ 0.8.5: the instance's own budget, beside the trainer).
    const engine = 0.3 * 79.19 * GiB; // 25,508,884,512.8
    // Rollout buffer after generate, split over 8 ranks: 64 prompts × G = 8 → 512 sequences; input_ids,
    // attention_mask, position_ids int64 × 1024 tokens, responses int64 × 512 → (3 × 4,194,304 + 2,097,152) / 8.
    const buffer = (3 * 512 * 1024 * 8 + 512 * 512 * 8) / 8; // 1,835,008
    expect(j.peakPhase).toBe("generate");
    expect(Math.abs(j.peakBytesPerGpu - (policy + engine + buffer))).toBeLessThanOrEqual(2); // ≈ 40,847,414,862
    expect(j.roles.find((x: { name: string }) => x.name === "policy").residentBytesPerGpu).toBe(Math.round(policy));
    expect(j.fits).toBe(true); // 38.04 GiB of 79.19
  });

  it("GRPO with β > 0 adds the reference: its bf16 weights sharded like the policy, 2Ψ / 8", () => {
    const j = JSON.parse(rl("--algo", "grpo", ...common, "--beta", "0.04", "--json").stdout);
    const base = JSON.parse(runs.grpo.stdout);
    expect(j.roles.find((x: { name: string }) => x.name === "reference").residentBytesPerGpu).toBe(1_903_904_128);
    expect(j.peakPhase).toBe("generate");
    expect(j.peakBytesPerGpu - base.peakBytesPerGpu).toBe(1_903_904_128);
  });
});

/**
 * Parses "tried here: FLAGS → fits, peak X GiB in PHASE; FLAGS → runs, but OOM by Y GiB in PHASE" from an error and
 * re-runs every suggestion: each must give the report the error promised.
 */
function checkSuggestions(args: string[]): string[] {
  const r = rl(...args);
  expect(r.code).toBe(2);
  const tried = r.stderr.split("; tried here: ")[1];
  expect(tried).toBeDefined();
  const items = tried.trim().split("; ");
  for (const item of items) {
    const [flags, outcome] = item.split(" → ");
    const j = JSON.parse(rl(...args, ...flags.split(" "), "--json").stdout);
    const fits = outcome.startsWith("fits");
    expect(j.fits, item).toBe(fits);
    const gib = (b: number) => (b / GiB).toFixed(2);
    if (fits) expect(outcome).toBe(`fits, peak ${gib(j.peakBytesPerGpu)} GiB in ${j.peakPhase}`);
    else expect(outcome).toBe(`runs, but OOM by ${gib(j.oomByBytes)} GiB in ${j.peakPhase}`);
  }
  return items.map((i) => i.split(" → ")[0]);
}

describe("a rollout budget with no KV room: every suggestion was tried and works", { timeout: 600_000 }, () => {
  it("old 'shared' accounting with an unsharded trainer: only sharding + instance accounting together fit", () => {
    // 7B PPO under ZeRO-0: actor + critic states 2 × 16 B × 7.6e9 alone exceed the GPU, so raising the
    // utilization cannot work and is not suggested.
    const flags = checkSuggestions(["--algo", "ppo", ...common, "--rollout-memory-accounting", "shared", "--zero-stage", "0"]);
    expect(flags).toContain("--zero-stage 3 --rollout-memory-accounting instance");
    expect(flags.some((f) => f.startsWith("--rollout-gpu-memory-utilization"))).toBe(false);
  });
  it("'instance' startup failure beside the trainer suggests the largest utilization the free memory allows", () => {
    // 1.5B PPO on one GPU: actor, critic, reference and reward hold 50.52 GiB; 0.5 × 79.19 GiB is not free.
    const flags = checkSuggestions(["--algo", "ppo", "--model", "Qwen/Qwen2.5-1.5B-Instruct", "--gpu", "H100-SXM-80GB", "--rollout-gpu-memory-utilization", "0.5"]);
    // (79.19 − 50.52) / 79.19 = 0.362 → 0.36.
    expect(flags).toContain("--rollout-gpu-memory-utilization 0.36");
  });
  it("a 7B trainer that alone overfills one GPU: more GPUs, not a utilization", () => {
    const flags = checkSuggestions(["--algo", "grpo", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "H100-SXM-80GB"]);
    expect(flags[0]).toBe("--gpus 2");
  });
});

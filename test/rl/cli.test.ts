import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** Runs `vramscope rl …` as a user would. */
function rl(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/vramscope.mjs", "rl", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = ["--model", "Qwen/Qwen2.5-1.5B-Instruct", "--gpu", "H100-SXM-80GB", "--prompt-len", "256", "--response-len", "256", "--rollout-batch-size", "16", "--micro-batch-size", "2", "--rollout-step-time", "0.02"];

describe("vramscope rl", { timeout: 120_000 }, () => {
  it("--json prints roles, phases, the peak, its phase and the verdict", () => {
    const r = rl("--algo", "grpo", ...base, "--beta", "0.04", "--rollout-gpu-memory-utilization", "0.6", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.roles.map((x: { name: string; kind: string }) => [x.name, x.kind])).toEqual([["policy", "train"], ["reference", "inference"], ["rollout-engine", "rollout"]]);
    for (const x of j.roles) expect(x.bytesPerGpu).toBeGreaterThan(0);
    expect(j.phases.map((p: { name: string }) => p.name)).toEqual(["generate", "score", "train", "sync"]);
    expect(j.peakBytesPerGpu).toBe(Math.max(...j.phases.map((p: { peakBytesPerGpu: number }) => p.peakBytesPerGpu)));
    expect(j.phases.find((p: { name: string }) => p.name === j.peakPhase).peakBytesPerGpu).toBe(j.peakBytesPerGpu);
    expect(j.fits).toBe(true);
    expect(j.timeline).toBeUndefined();
    expect(j.rollout.summary.requests).toBe(16 * 8);
  });
  it("--timeline adds every event with bytes by role and by component", () => {
    const j = JSON.parse(rl("--algo", "dpo", ...base, "--json", "--timeline").stdout);
    expect(j.timeline.length).toBeGreaterThan(10);
    const e = j.timeline[0];
    for (const k of ["index", "phase", "group", "label", "byRole", "byComponent", "total"]) expect(e).toHaveProperty(k);
    expect(j.timeline.map((x: { phase: string }) => x.phase)).toContain("train");
  });
  it("an unknown algorithm is a one-line error naming --algo, exit 2", () => {
    const r = rl("--algo", "ppoo", ...base);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --algo: unknown algorithm "ppoo".*did you mean ppo/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it("GRPO with one generation names --num-generations", () => {
    const r = rl("--algo", "grpo", ...base, "--num-generations", "1");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --num-generations: GRPO needs at least 2/);
  });
  it("a reward model larger than the GPU names --reward-model", () => {
    const r = rl("--algo", "ppo", ...base, "--reward-model", "meta-llama/Llama-3.1-405B-Instruct");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --reward-model: meta-llama\/Llama-3.1-405B-Instruct \(reward\) needs/);
  });
  it("an unknown reward model names --reward-model", () => {
    const r = rl("--algo", "ppo", ...base, "--reward-model", "llama-9000");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--reward-model/);
  });
});

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function train(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/vramscope.mjs", "train", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vramscope train", () => {
  it("--json prints the per-device terms, the verdict and the suggestions", () => {
    const r = train("--model", "meta-llama/Llama-2-7b-hf", "--gpu", "A100-40GB", "--gpus", "8", "--micro-batch-size", "4", "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ["paramsBytes", "gradsBytes", "optimizerBytes", "masterWeightsBytes", "activationsBytes", "logitsBytes", "overheadBytes", "peakBytes", "fits"])
      expect(j).toHaveProperty(k);
    expect(j.paramsBytes).toBe(6_738_415_616 * 2);
    expect(j.fits).toBe(false);
    expect(j.suggestions.length).toBeGreaterThan(0);
    expect(j.suggestions.map((s: { change: string }) => s.change)).toContain("--fsdp (ZeRO-3)");
    expect(j.devices).toHaveLength(1);
    expect(j.timeline).toBeUndefined();
  });
  it("--params alone: model states of the ZeRO paper's 7.5B on 64 GPUs", () => {
    const j = JSON.parse(
      train("--params", "7.5e9", "--gpus", "64", "--fsdp", "--cuda-context", "0", "--allocator-reserve", "0%", "--json").stdout,
    );
    expect(j.paramsBytes + j.gradsBytes + j.optimizerBytes + j.masterWeightsBytes).toBe(1.875e9);
  });
  it("--timeline adds the step's events; a pipeline reports every stage", () => {
    const j = JSON.parse(train("--model", "meta-llama/Llama-2-7b-hf", "--gpus", "4", "--pp", "4", "--micro-batches", "4", "--timeline", "--json").stdout);
    expect(j.devices.map((d: { stage: number }) => d.stage)).toEqual([0, 1, 2, 3]);
    expect(j.timeline.events.length).toBeGreaterThan(50);
    expect(j.timeline.peakBytes).toBeCloseTo(j.devices[j.timeline.stage].peakBytes, 3);
  });
  it("the table names the terms and the verdict", () => {
    const r = train("--model", "meta-llama/Llama-2-7b-hf", "--gpu", "H100-SXM-80GB", "--gpus", "8", "--fsdp", "--activation-checkpointing", "full");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/activations/);
    expect(r.stdout).toMatch(/^fits: peak/m);
  });
  const bad: [string[], RegExp][] = [
    [["--model", "meta-llama/Llama-2-7b-hf", "--gpus", "3", "--tp", "3"], /--tp 3 does not divide the 32 attention heads/],
    [["--model", "meta-llama/Llama-2-7b-hf", "--gpus", "64", "--pp", "64", "--micro-batches", "64"], /--pp 64 is more pipeline stages than the 32 layers/],
    [["--model", "meta-llama/Llama-2-7b-hf", "--gpus", "0"], /--gpus must be at least 1/],
    [["--model", "meta-llama/Llama-2-7b-hf", "--gpus", "4", "--pp", "4", "--micro-batches", "2"], /--micro-batches 2 is fewer than the 4 pipeline stages/],
    [["--model", "meta-llama/Llama-2-7b-hf", "--gpus", "6", "--tp", "4"], /--gpus 6 is not divisible by tp·pp/],
    [["--gpus", "8"], /--model/],
  ];
  for (const [args, msg] of bad)
    it(`bad input: ${args.join(" ")} → one-line error, exit 2`, () => {
      const r = train(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
});

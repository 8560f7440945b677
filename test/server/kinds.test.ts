import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createRun, nativeTrace, testServer, uploadTrace } from "./helpers.ts";

let server: Awaited<ReturnType<typeof testServer>>;
beforeAll(async () => {
  server = await testServer({});
});
afterAll(async () => {
  await server.close();
});

describe("run kind: train", () => {
  it("plays one training step's memory timeline and reports the peak", async () => {
    const id = await createRun(server.url, { kind: "train", speed: "max" });
    const c = connect(server.url, id);
    const summary = await c.waitFor((m) => m.type === "summary");
    const hello = c.messages[0];
    expect(hello).toMatchObject({ type: "hello", kind: "train", budget: null, facts: { modelName: "meta-llama/Llama-3.1-8B-Instruct" } });
    const events = c.of("frame").flatMap((f) => f.extra ?? []) as { t: number; bytes: Record<string, number> }[];
    const result = (summary as { result: { events: number; peakBytes: number; fits: boolean; gpuMemoryBytes: number } }).result;
    expect(events).toHaveLength(result.events);
    events.forEach((e, i) => expect(e.t).toBe(i));
    // Llama-3.1-8B has 8,030,261,248 parameters (HF num_parameters()). Mixed-precision AdamW ("zero" preset, DDP on
    // 1 GPU): bf16 params 2 B/param = 16,060,522,496 B; two fp32 moments 8 B/param = 64,242,089,984 B; fp32 master
    // weights 4 B/param = 32,121,044,992 B.
    const first = events[0].bytes;
    expect(first.params).toBe(16_060_522_496);
    expect(first.optimizer).toBe(64_242_089_984);
    expect(first.masterWeights).toBe(32_121_044_992);
    // 16 B/param of model states alone (128,484,179,968 B) exceed an 80 GB H100 (85,029,615,043 B): it cannot fit.
    expect(result.peakBytes).toBeGreaterThan(128_484_179_968);
    expect(result.peakBytes).toBe(Math.max(...events.map((e) => e.bytes.total)));
    expect(result.fits).toBe(false);
    expect(result.gpuMemoryBytes).toBe(85_029_615_043);
    const csv = await (await fetch(`${server.url}/api/runs/${id}/export?format=csv`)).text();
    expect(csv.trim().split("\n")).toHaveLength(1 + result.events);
  });

  it("rejects a bad layout naming the field", async () => {
    const r = await fetch(`${server.url}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "train", config: { tp: 3 } }),
    });
    expect(r.status).toBe(400);
    // 32 attention heads are not divisible by 3.
    expect(await r.json()).toEqual({
      error: "config.tp: --tp 3 does not divide the 32 attention heads of meta-llama/Llama-3.1-8B-Instruct",
      field: "config.tp",
    });
    const z = await fetch(`${server.url}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "train", config: { zeroStage: 4 } }),
    });
    expect(z.status).toBe(400);
    expect((await z.json()).field).toBe("config.zeroStage");
  });
});

describe("run kind: rl", () => {
  it("plays one GRPO iteration's timeline; its peak is the report's peak", async () => {
    const id = await createRun(server.url, { kind: "rl", speed: "max" });
    const c = connect(server.url, id);
    const summary = await c.waitFor((m) => m.type === "summary", 30_000);
    const result = (summary as { result: { algorithm: string; peakBytesPerGpu: number; fits: boolean; gpuMemoryBytes: number; roles: { name: string }[] } }).result;
    expect(result.algorithm).toBe("grpo");
    const events = c.of("frame").flatMap((f) => f.extra ?? []) as { index: number; phase: string; total: number }[];
    expect(events.length).toBeGreaterThan(10);
    events.forEach((e, i) => expect(e.index).toBe(i));
    expect(new Set(events.map((e) => e.phase))).toEqual(new Set(["generate", "score", "train", "sync"]));
    expect(Math.max(...events.map((e) => e.total))).toBe(result.peakBytesPerGpu);
    expect(result.fits).toBe(result.peakBytesPerGpu <= result.gpuMemoryBytes);
    // GRPO with β = 0 holds no reference model and no critic: the policy and the rollout engine only.
    expect(result.roles.map((r) => r.name).sort()).toEqual(["policy", "rollout-engine"]);
  });

  it("a configuration the simulator refuses fails the run with the simulator's message", async () => {
    // 70B policy, full AdamW states on one 80 GB GPU with the rollout engine beside it: no room for any KV cache.
    const id = await createRun(server.url, { kind: "rl", config: { model: "meta-llama/Llama-3.1-70B-Instruct" } });
    const c = connect(server.url, id);
    const failed = await c.waitFor((m) => m.type === "state" && m.state === "failed", 30_000);
    expect(failed.type === "state" && failed.message).toMatch(/--rollout-gpu-memory-utilization|does not fit|no memory/);
  });
});

describe("run kind: sweep", () => {
  it("streams one point per step and ends with the sweep result", async () => {
    const trace = await uploadTrace(server.url, nativeTrace(4, 1, 100, 3));
    const id = await createRun(server.url, {
      kind: "sweep",
      speed: "max",
      config: { trace, stepTimeS: 0.01, vary: ["gpu-memory-utilization=0.5,0.9"], gpuHourPrice: ["H100-SXM-80GB=2"] },
    });
    const c = connect(server.url, id);
    const summary = await c.waitFor((m) => m.type === "summary", 30_000);
    const points = c.of("frame").flatMap((f) => f.extra ?? []) as {
      index: number;
      params: Record<string, number>;
      feasible: boolean;
      metrics: { completed: number; simulatedSeconds: number; memoryBudgetBytes: number; costPerHour: number };
    }[];
    expect(points.map((p) => p.index)).toEqual([0, 1]);
    expect(points.map((p) => p.params["gpu-memory-utilization"])).toEqual([0.5, 0.9]);
    for (const p of points) {
      expect(p.feasible).toBe(true);
      // Same 4 requests as the replay test (alone, 3 steps of 0.01 s each): done at 3.03 s whatever the memory.
      expect(p.metrics.completed).toBe(4);
      expect(p.metrics.simulatedSeconds).toBeCloseTo(3.03, 9);
      expect(p.metrics.costPerHour).toBe(2); // 1 GPU × $2/h
    }
    // util × total: 0.5 × 85,029,615,043 B and 0.9 × the same.
    expect(Math.abs(points[0].metrics.memoryBudgetBytes - 42_514_807_521.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(points[1].metrics.memoryBudgetBytes - 76_526_653_538.7)).toBeLessThanOrEqual(1);
    const result = (summary as { result: { totalPoints: number; points: unknown[] } }).result;
    expect(result.totalPoints).toBe(2);
    expect(result.points).toEqual(points);
    const ex = await fetch(`${server.url}/api/runs/${id}/export?format=json`);
    expect(ex.status).toBe(400);
    expect((await ex.json()).field).toBe("format");
  });

  it("rejects a bad --vary naming config.vary", async () => {
    const r = await fetch(`${server.url}/api/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "sweep", config: { vary: ["colour=red"] } }),
    });
    expect(r.status).toBe(400);
    expect((await r.json()).field).toBe("config.vary");
  });
});

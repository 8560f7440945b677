import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Type } from "@sinclair/typebox";
import type { RunKind } from "../../server/runs/kinds/types.ts";
import type { ServerMessage } from "../../server/protocol.ts";
import { connect, createRun, nativeTrace, sleep, testServer, uploadTrace } from "./helpers.ts";

function failingKind(name: string, mode: "throw" | "oom" | "init", workerMemoryMb?: number): RunKind {
  return {
    name,
    description: `test kind that fails (${mode})`,
    configSchema: Type.Object({}, { additionalProperties: false }),
    simModule: new URL("./fixtures/failing-sim.ts", import.meta.url),
    workerMemoryMb,
    prepare: () => ({
      config: { mode },
      facts: { modelName: "test", gpuName: "none", gpuMemoryBytes: 0, tensorParallelSize: 1 },
      budget: null,
      modelName: "test",
      workerInput: { mode },
    }),
  };
}

let server: Awaited<ReturnType<typeof testServer>>;
beforeAll(async () => {
  server = await testServer({
    maxConcurrentRuns: 4,
    extraKinds: [failingKind("throws", "throw"), failingKind("hog", "oom", 48), failingKind("broken", "init")],
  });
});
afterAll(async () => {
  await server.close();
});

const isState = (s: string) => (m: ServerMessage) => m.type === "state" && m.state === s;

describe("worker isolation", () => {
  it("a throwing, an out-of-memory and a broken worker fail their own runs only; cancel terminates", async () => {
    const trace = await uploadTrace(server.url, nativeTrace(600, 0.1, 128, 16));
    const healthyId = await createRun(server.url, { kind: "replay", speed: 5, config: { trace } });
    const healthy = connect(server.url, healthyId);
    await healthy.waitFor(isState("running"));

    const throwsId = await createRun(server.url, { kind: "throws", speed: "max" });
    const hogId = await createRun(server.url, { kind: "hog", speed: "max" });
    const brokenId = await createRun(server.url, { kind: "broken" });
    const t = connect(server.url, throwsId);
    const h = connect(server.url, hogId);
    const b = connect(server.url, brokenId);

    const tf = await t.waitFor(isState("failed"), 30_000);
    expect(tf.type === "state" && tf.message).toBe("simulated engine bug at step 3");
    expect(t.of("error")[0].message).toBe(`run ${throwsId} failed: simulated engine bug at step 3`);
    const hf = await h.waitFor(isState("failed"), 30_000);
    expect(hf.type === "state" && hf.message).toMatch(/ran out of memory \(worker limit 48 MiB\)/);
    const bf = await b.waitFor(isState("failed"), 30_000);
    expect(bf.type === "state" && bf.message).toBe("cannot build this simulation");
    const info = await (await fetch(`${server.url}/api/runs/${throwsId}`)).json();
    expect(info).toMatchObject({ state: "failed", message: "simulated engine bug at step 3" });

    // The healthy run never noticed: still running, frames still coming, the server still answers.
    // (Frames are paced at 30 a second; 10 s bounds a loaded machine, it is not the expectation.)
    const before = healthy.of("frame").length;
    await healthy.waitFor((m) => m.type === "frame" && m.seq >= before + 5, 10_000);
    expect((await (await fetch(`${server.url}/api/runs/${healthyId}`)).json()).state).toBe("running");
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Cancel: DELETE terminates the worker thread and tells the viewer.
    const run = server.manager.get(healthyId)!;
    const del = await fetch(`${server.url}/api/runs/${healthyId}`, { method: "DELETE" });
    expect(await del.json()).toEqual({ id: healthyId, state: "cancelled" });
    await healthy.waitFor(isState("cancelled"));
    expect(typeof (await run.worker!.exited)).toBe("number");
    expect((await healthy.closed).code).toBe(1000);
    expect(run.worker!.alive).toBe(false);
  });

  it("limits concurrent runs: the rest queue, are told their position, and start when a slot frees", async () => {
    const s = await testServer({ maxConcurrentRuns: 1 });
    try {
      const trace = await uploadTrace(s.url, nativeTrace(5, 0.1, 32, 2));
      const first = await createRun(s.url, { kind: "replay", start: "paused", config: { trace, stepTimeS: 0.01 } });
      const second = await createRun(s.url, { kind: "replay", speed: "max", start: "now", config: { trace, stepTimeS: 0.01 } });
      const info = await (await fetch(`${s.url}/api/runs/${second}`)).json();
      expect(info).toMatchObject({ state: "created", queuePosition: 1 });
      const c2 = connect(s.url, second);
      const hello = await c2.waitFor((m) => m.type === "hello");
      expect(hello.type === "hello" && hello.state).toBe("created");
      const queued = await c2.waitFor((m) => m.type === "state");
      expect(queued).toMatchObject({ state: "created", queuePosition: 1 });
      await sleep(300);
      expect(c2.of("frame")).toHaveLength(0); // queued: nothing runs
      await fetch(`${s.url}/api/runs/${first}`, { method: "DELETE" });
      await c2.waitFor((m) => m.type === "summary", 30_000);
      expect((await (await fetch(`${s.url}/api/runs/${second}`)).json()).state).toBe("finished");
    } finally {
      await s.close();
    }
  });
});

describe("abandoned runs", () => {
  it("a run nobody watches is cancelled after the grace period; a script's run (start: now) is not", async () => {
    const s = await testServer({ abandonAfterMs: 400 });
    try {
      const trace = await uploadTrace(s.url, nativeTrace(50, 1, 32, 2));
      const never = await createRun(s.url, { kind: "replay", config: { trace } });
      const left = await createRun(s.url, { kind: "replay", config: { trace } });
      const script = await createRun(s.url, { kind: "replay", start: "now", speed: 1, config: { trace } });
      const c = connect(s.url, left);
      await c.waitFor((m) => m.type === "hello");
      c.ws.close();
      const state = async (id: string) => (await (await fetch(`${s.url}/api/runs/${id}`)).json()) as { state: string; message?: string };
      // Poll (worker start-up is slow on a loaded machine); 20 s is a bound, not the expectation.
      for (let i = 0; i < 200 && ((await state(left)).state !== "cancelled" || (await state(script)).state === "created"); i++) await sleep(100);
      expect(await state(never)).toMatchObject({ state: "cancelled", message: "cancelled: no viewer for 400 ms" });
      expect((await state(left)).state).toBe("cancelled");
      await sleep(600); // well past the grace period: the unwatched script run keeps going
      expect((await state(script)).state).toBe("running");
    } finally {
      await s.close();
    }
  });
});

/**
 * Backward seeks resume from the worker's checkpoints (server/runs/checkpoints.ts) and must be indistinguishable from
 * a re-simulation from t = 0: the same events after the rewind, the same /metrics series.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { FrameMessage, ServerMessage, StateMessage } from "../../server/protocol.ts";
import { connect, createRun, nativeTrace, testServer, uploadTrace, type Recorder } from "./helpers.ts";

let server: Awaited<ReturnType<typeof testServer>>;
beforeAll(async () => {
  server = await testServer({ checkpointEveryMs: 0 }); // a checkpoint after every batch
});
afterAll(async () => server.close());

const isState = (s: string) => (m: ServerMessage) => m.type === "state" && m.state === s;

/** Seeks and waits for the `state` that reports where it landed. */
async function seek(c: Recorder, t: number): Promise<StateMessage> {
  const n = c.messages.length;
  c.send({ type: "seek", t });
  return (await c.waitFor((m) => m.type === "state" && c.messages.indexOf(m as never) >= n && m.t > 0, 20_000)) as StateMessage;
}

/** Events streamed after message index `from`, with simulated time in (t0, t1]. */
function eventsAfter(c: Recorder, from: number, t0: number, t1: number): EngineEvent[] {
  return c.messages
    .slice(from)
    .filter((m): m is FrameMessage & { at: number } => m.type === "frame")
    .flatMap((f) => f.events)
    .filter((e) => e.t > t0 && e.t <= t1);
}

async function metricsOf(id: string): Promise<string[]> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.includes(`run_id="${id}"`) && !l.startsWith("vllm:cache_config_info"))
    .map((l) => l.replace(`run_id="${id}"`, "run_id"))
    .sort();
}

/**
 * Two paused runs of the same trace, A and B, with a viewer each. 800 requests, 40 per second, 300-token prompts and
 * 120 output tokens, in 200 blocks of 16 tokens: the queue and preemptions make the state at any instant non-trivial
 * (waiting, running, partly computed, cached blocks).
 */
async function twoRuns(detailA: string, detailB: string) {
  const trace = await uploadTrace(server.url, nativeTrace(800, 0.025, 300, 120));
  const config = { trace, numGpuBlocksOverride: 200, maxModelLen: 1024 };
  const a = await createRun(server.url, { kind: "replay", start: "paused", config });
  const b = await createRun(server.url, { kind: "replay", start: "paused", config });
  const ca = connect(server.url, a, `?detail=${detailA}`);
  const cb = connect(server.url, b, `?detail=${detailB}`);
  await ca.waitFor(isState("paused"));
  await cb.waitFor(isState("paused"));
  return { a, b, ca, cb };
}

describe("backward seek from a checkpoint", () => {
  it("streams the same events and reports the same /metrics as a run that never rewound", async () => {
    const { a, b, ca, cb } = await twoRuns("requests,steps,memory", "requests,steps,memory");

    // Run A forward in three seeks (a checkpoint after each), then back into the middle of the second stretch.
    for (const t of [5, 10, 15]) expect((await seek(ca, t)).rewoundTo).toBeUndefined();
    const back = await seek(ca, 12);
    expect(back.rewoundTo).toBeGreaterThanOrEqual(12);
    // It resumed from a checkpoint taken on the way (which one depends on how long copies took), not from the start.
    expect(back.resumedFrom).toBeGreaterThan(0);
    expect(back.resumedFrom).toBeLessThanOrEqual(back.rewoundTo!);
    const mark = ca.messages.length;
    const fwd = await seek(ca, 20);

    // Run B never rewinds: straight to 20.
    const straight = await seek(cb, 20);
    expect(fwd.t).toBe(straight.t);
    const replayed = eventsAfter(ca, mark, back.rewoundTo!, fwd.t);
    const reference = eventsAfter(cb, 0, back.rewoundTo!, straight.t);
    expect(replayed.length).toBeGreaterThan(100);
    expect(replayed.some((e) => e.type === "preempted")).toBe(true);
    expect(replayed).toEqual(reference);
    // /metrics: every series of A (rewound, then resumed from a checkpoint) equals B's, histograms included.
    const ma = await metricsOf(a);
    expect(ma.find((l) => l.startsWith("vllm:request_success_total"))).toMatch(/ [1-9]\d*$/);
    expect(ma).toEqual(await metricsOf(b));
    ca.ws.close();
    cb.ws.close();
  });

  it("block events turned on mid-run (in place) survive a rewind to a checkpoint taken without them", async () => {
    const { ca, cb } = await twoRuns("requests", "requests,blocks");
    // A streams without block events (checkpoints without them), then subscribes: the map comes at once, in place.
    for (const t of [5, 10, 15]) await seek(ca, t);
    const n = ca.messages.length;
    ca.send({ type: "subscribe", detail: ["requests", "blocks"] });
    const map = await ca.waitFor((m) => m.type === "blocks" && ca.messages.indexOf(m as never) >= n);
    if (map.type !== "blocks") throw new Error();
    expect(map.tables!.length).toBeGreaterThan(0);
    // Back to 12 (a checkpoint from before the subscription), then on to 20: block events all the way.
    const back = await seek(ca, 12);
    expect(back.resumedFrom).toBeGreaterThan(0);
    const mark = ca.messages.length;
    const fwd = await seek(ca, 20);
    const straight = await seek(cb, 20);
    expect(fwd.t).toBe(straight.t);
    const replayed = eventsAfter(ca, mark, back.rewoundTo!, fwd.t);
    expect(replayed.filter((e) => e.type === "blocks_allocated").length).toBeGreaterThan(50);
    expect(replayed).toEqual(eventsAfter(cb, 0, back.rewoundTo!, straight.t));
    ca.ws.close();
    cb.ws.close();
  });
});

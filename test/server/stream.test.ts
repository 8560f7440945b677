import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ServerMessageSchema, CLOSE_CODES, type FrameMessage, type StateMessage, type ServerMessage } from "../../server/protocol.ts";
import { connect, createRun, nativeTrace, sleep, testServer, uploadTrace } from "./helpers.ts";

const serverMessage = TypeCompiler.Compile(ServerMessageSchema);
let server: Awaited<ReturnType<typeof testServer>>;

beforeAll(async () => {
  server = await testServer({ maxConcurrentRuns: 6 });
});
afterAll(async () => {
  await server.close();
});

const isState = (s: string) => (m: ServerMessage) => m.type === "state" && m.state === s;

describe("streaming over a real WebSocket", () => {
  it("hello → frames → summary, with hand-computed timings and metrics", async () => {
    // 4 requests, arrivals 0,1,2,3 s, prompt 100 / output 3 tokens, constant step time 0.01 s. Each request is alone:
    // step 1 prefills 100 tokens and samples token 1 at +0.01 s; two decode steps give tokens 2 and 3 at +0.03 s.
    // ⇒ TTFT 0.01 s, e2e 0.03 s, 3 steps per request (12 in all), prompt tokens 400, generated tokens 12,
    //   simulated time 3.03 s, tokens per step 100, 1, 1.
    const trace = await uploadTrace(server.url, nativeTrace(4, 1, 100, 3));
    const id = await createRun(server.url, { kind: "replay", speed: "max", config: { trace, stepTimeS: 0.01 } });
    const c = connect(server.url, id);
    const summary = await c.waitFor((m) => m.type === "summary");
    await c.waitFor(isState("finished"));
    for (const m of c.messages) expect(serverMessage.Check(m), JSON.stringify(m).slice(0, 200)).toBe(true);

    const hello = c.messages[0];
    expect(hello.type).toBe("hello");
    if (hello.type !== "hello") throw new Error();
    expect(hello).toMatchObject({ protocolVersion: 1, runId: id, kind: "replay", detail: ["requests", "steps", "memory"], maxFrameRate: 30 });
    expect(hello.budget?.kvBytesPerToken).toBe(131_072);
    expect(hello.facts.trace).toEqual({ name: trace, requests: 4, lastArrival: 3 });

    const frames = c.of("frame") as FrameMessage[];
    expect(frames.length).toBeGreaterThan(0);
    // PROTO-1: seq 0,1,2,… and time ranges that never go back.
    frames.forEach((f, i) => expect(f.seq).toBe(i));
    for (let i = 1; i < frames.length; i++) expect(frames[i].t0).toBeGreaterThanOrEqual(frames[i - 1].t1 - 1e-12);
    // PROTO-2: every discrete event arrives, once.
    const events = frames.flatMap((f) => f.events);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(count("arrival")).toBe(4);
    expect(count("first_token")).toBe(4);
    expect(count("finished")).toBe(4);
    expect(count("step")).toBe(12);
    expect(frames.reduce((n, f) => n + f.counts.steps, 0)).toBe(12);
    expect(frames.reduce((n, f) => n + f.counts.finished, 0)).toBe(4);
    const steps = events.filter((e) => e.type === "step");
    expect(steps.map((s) => (s.type === "step" ? s.numScheduledTokens : 0))).toEqual([100, 1, 1, 100, 1, 1, 100, 1, 1, 100, 1, 1]);

    if (summary.type !== "summary" || !summary.summary) throw new Error("no replay summary");
    expect(summary.summary.completed).toBe(4);
    expect(summary.summary.engineSteps).toBe(12);
    expect(summary.summary.ttft.mean).toBeCloseTo(0.01, 9);
    expect(summary.summary.e2e.mean).toBeCloseTo(0.03, 9);
    expect(summary.summary.simulatedSeconds).toBeCloseTo(3.03, 9);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const series = (name: string, extra = "") =>
      Number(metrics.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`run_id="${id}"`) && l.includes(extra))?.split(" ").pop());
    expect(series("vllm:prompt_tokens_total")).toBe(400);
    expect(series("vllm:generation_tokens_total")).toBe(12);
    expect(series("vllm:request_success_total")).toBe(4);
    expect(series("vllm:num_preemptions_total")).toBe(0);
    expect(series("vllm:prefix_cache_queries_total")).toBe(400);
    expect(series("vllm:time_to_first_token_seconds_count")).toBe(4);
    expect(series("vllm:time_to_first_token_seconds_sum")).toBeCloseTo(0.04, 9);
    // TTFT 0.01 s (+ float error) falls in the le="0.02" bucket, not below 0.005.
    expect(series("vllm:time_to_first_token_seconds_bucket", 'le="0.02"')).toBe(4);
    expect(series("vllm:time_to_first_token_seconds_bucket", 'le="0.005"')).toBe(0);
    expect(series("vllm:e2e_request_latency_seconds_sum")).toBeCloseTo(0.12, 9);
    expect(series("vllm:iteration_tokens_total_sum")).toBe(408);
    expect(series("vllm:iteration_tokens_total_count")).toBe(12);
    expect(series("vllm:kv_cache_usage_perc")).toBe(0);
    c.ws.close();
  });

  it("/metrics counters equal the engine's own summary, preemptions included", async () => {
    // 8 requests of 200 + 100 tokens at once in 40 blocks of 16 tokens (39 usable): 8 × ceil(300/16) = 152 blocks
    // would be needed at the end, so the scheduler must preempt.
    const trace = await uploadTrace(server.url, nativeTrace(8, 0, 200, 100));
    const id = await createRun(server.url, {
      kind: "replay",
      speed: "max",
      config: { trace, stepTimeS: 0.01, numGpuBlocksOverride: 40, maxModelLen: 512 },
    });
    const c = connect(server.url, id, "?detail=requests");
    const summary = await c.waitFor((m) => m.type === "summary");
    if (summary.type !== "summary" || !summary.summary) throw new Error("no summary");
    const s = summary.summary;
    expect(s.preemptions).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const series = (name: string) =>
      Number(metrics.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`run_id="${id}"`))?.split(" ").pop());
    expect(series("vllm:num_preemptions_total")).toBe(s.preemptions);
    expect(series("vllm:prefix_cache_queries_total")).toBe(s.prefixCacheQueries);
    expect(series("vllm:prefix_cache_hits_total")).toBe(s.prefixCacheHitTokens);
    expect(series("vllm:request_success_total")).toBe(8);
    // Every preemption reached the stream as an event (PROTO-2).
    const preempted = c.of("frame").flatMap((f) => f.events).filter((e) => e.type === "preempted");
    expect(preempted).toHaveLength(s.preemptions);
    c.ws.close();
  });

  it("frames carry the engine's live report: completed so far and its percentiles, twice a wall second", async () => {
    // 30 requests 0.1 s apart, prompt 100 / output 3, step 0.01 s: each is alone (done 0.03 s after arrival), so
    // every report so far has TTFT 0.01 s, TPOT 0.01 s, e2e 0.03 s at every percentile. Simulated 2.93 s at speed 1
    // ⇒ about 3 wall seconds ⇒ several live reports (one per ≥ 500 ms of wall time).
    const trace = await uploadTrace(server.url, nativeTrace(30, 0.1, 100, 3));
    const id = await createRun(server.url, { kind: "replay", speed: 1, config: { trace, stepTimeS: 0.01 } });
    const c = connect(server.url, id, "?detail=requests");
    await c.waitFor(isState("finished"));
    const frames = c.of("frame") as FrameMessage[];
    const withLive = frames.filter((f) => f.live);
    expect(withLive.length).toBeGreaterThanOrEqual(3);
    const finishTimes: number[] = [];
    for (const f of frames) {
      for (const e of f.events) if (e.type === "finished") finishTimes.push(e.t);
      if (!f.live) continue;
      // The report covers exactly the requests whose `finished` event is stamped at or before `liveT`, which lies in
      // the frame; a frame that merged a later batch also streams finishes the report does not count yet.
      const liveT = f.liveT!;
      expect(liveT).toBeGreaterThanOrEqual(f.t0);
      expect(liveT).toBeLessThanOrEqual(f.t1);
      expect(f.live.completed).toBe(finishTimes.filter((t) => t <= liveT).length);
      if (f.live.completed === 0) continue;
      expect(f.live.ttft.p50).toBeCloseTo(0.01, 9);
      expect(f.live.ttft.p99).toBeCloseTo(0.01, 9);
      expect(f.live.tpot.p50).toBeCloseTo(0.01, 9);
      expect(f.live.e2e.p99).toBeCloseTo(0.03, 9);
    }
    expect(new Set(withLive.map((f) => f.live!.completed)).size).toBeGreaterThanOrEqual(3); // it moved as the run did
    c.ws.close();
  });

  it("at full speed the memory series is downsampled and every dropped sample is accounted for", async () => {
    // Many tiny steps: far more memory snapshots per 25 ms worker slice than the 240 a batch keeps.
    const trace = await uploadTrace(server.url, nativeTrace(3000, 0.001, 16, 32));
    const id = await createRun(server.url, { kind: "replay", speed: "max", start: "paused", config: { trace, stepTimeS: 0.0005 } });
    const c = connect(server.url, id, "?detail=memory");
    await c.waitFor(isState("paused"));
    c.send({ type: "play" });
    const summary = await c.waitFor((m) => m.type === "summary", 30_000);
    if (summary.type !== "summary" || !summary.summary) throw new Error("no summary");
    const frames = c.of("frame") as FrameMessage[];
    const kept = frames.reduce((n, f) => n + f.snapshots.length, 0);
    const dropped = frames.reduce((n, f) => n + f.droppedSamples, 0);
    expect(dropped).toBeGreaterThan(0);
    // The engine emits one memory snapshot per step, plus the run's initial one (sent before this client may
    // have connected): kept + dropped accounts for all of them (DS-1 across the stream).
    expect(kept + dropped).toBeGreaterThanOrEqual(summary.summary.engineSteps);
    expect(kept + dropped).toBeLessThanOrEqual(summary.summary.engineSteps + 1);
    // Downsampling keeps peaks: the highest KV use of the run is among the kept points.
    expect(Math.max(...frames.flatMap((f) => f.snapshots.map((x) => x.kvUsage)))).toBeCloseTo(summary.summary.peakKvUsage, 12);
    c.ws.close();
  });

  it("/metrics passes promtool check metrics (skipped visibly when promtool is absent)", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const probe = spawnSync("promtool", ["--version"], { encoding: "utf8" });
    if (probe.error) {
      console.warn("SKIPPED: promtool not installed (apt-get install prometheus); /metrics was not checked by promtool");
      return;
    }
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    // Exit 1 = unparsable exposition: always a failure. Exit 3 = lint findings: the only ones allowed are on vLLM's
    // own names, which a real vLLM server triggers too (the names are the contract with vLLM dashboards): "metric
    // names should not contain ':'" on vllm:…, and the "_total" suffix of the histogram vllm:iteration_tokens_total.
    const findings = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
    expect(r.status, findings.join("\n")).not.toBe(1);
    for (const f of findings)
      expect(f).toMatch(/^(vllm:[a-z0-9_]+ metric names should not contain ':'|vllm:iteration_tokens_total non-counter metrics should not have "_total" suffix)$/);
    expect(text).toContain("vramscope_process_resident_memory_bytes");
  });

  it("exports a finished run as json, csv, perfetto and prometheus", async () => {
    const trace = await uploadTrace(server.url, nativeTrace(2, 1, 50, 2));
    const id = await createRun(server.url, { kind: "replay", speed: "max", start: "now", config: { trace, stepTimeS: 0.01 } });
    for (let i = 0; i < 200 && (await (await fetch(`${server.url}/api/runs/${id}`)).json()).state !== "finished"; i++) await sleep(50);
    const get = (q: string) => fetch(`${server.url}/api/runs/${id}/export?${q}`);
    const j = await get("format=json");
    expect(j.status).toBe(200);
    expect((await j.json()).kind).toBe("serving");
    const csv = await (await get("format=csv")).text();
    expect(csv.trim().split("\n")).toHaveLength(1 + 2); // header + 2 requests
    const mem = await (await get("format=csv&table=memory")).text();
    expect(mem.split("\n")[0]).toContain("kv");
    const pf = await (await get("format=perfetto")).json();
    expect(Array.isArray(pf.traceEvents)).toBe(true);
    const prom = await (await get("format=prometheus")).text();
    expect(prom).toContain(`run_id="${id}"`);
  });

  it("pause stops frames; play resumes them", async () => {
    const trace = await uploadTrace(server.url, nativeTrace(400, 0.25, 200, 50));
    const id = await createRun(server.url, { kind: "replay", speed: 5, config: { trace } });
    const c = connect(server.url, id);
    await c.waitFor(isState("running"));
    await c.waitFor((m) => m.type === "frame" && m.seq >= 5);
    c.send({ type: "pause" });
    await c.waitFor(isState("paused"));
    // The server tells `paused` only after the batch in flight at the pause has streamed: no frame follows it.
    const before = c.of("frame").length;
    await sleep(600);
    expect(c.of("frame").length).toBe(before);
    c.send({ type: "play" });
    await c.waitFor((m) => m.type === "frame" && m.seq >= before + 3);
    c.ws.close();
  });

  it("seek lands on the requested simulated time, forward and backward", async () => {
    // Arrivals every 0.5 s for 60 s; steps of 0.01 s; each request takes 3 steps, so the engine is idle most of
    // the time and a seek to an idle instant lands exactly on it.
    const trace = await uploadTrace(server.url, nativeTrace(120, 0.5, 64, 3));
    const id = await createRun(server.url, { kind: "replay", start: "paused", config: { trace, stepTimeS: 0.01 } });
    const c = connect(server.url, id);
    await c.waitFor(isState("paused"));
    c.send({ type: "seek", t: 20.2 });
    const fwd = (await c.waitFor((m) => m.type === "state" && m.t > 0)) as StateMessage;
    expect(fwd.t).toBe(20.2);
    expect(fwd.rewoundTo).toBeUndefined();
    // The forward seek streamed what it passed: requests 0..40 arrived at 0, 0.5, …, 20.0 s.
    await sleep(150);
    const arrivals = c.of("frame").flatMap((f) => f.events).filter((e) => e.type === "arrival");
    expect(arrivals).toHaveLength(41);
    // Busy instant: request 40 arrives at 20.0 and runs steps [20.00, 20.01), [20.01, 20.02), [20.02, 20.03).
    // A seek back to 20.015 re-simulates from 0 and stops at the first step boundary ≥ 20.015: 20.02.
    c.send({ type: "seek", t: 20.015 });
    const back = (await c.waitFor((m) => m.type === "state" && m.rewoundTo !== undefined)) as StateMessage;
    expect(back.rewoundTo).toBeCloseTo(20.02, 9);
    expect(back.t).toBeCloseTo(20.02, 9);
    // The first frame after the rewind starts there and counts nothing of the silent re-simulation.
    const after = (await c.waitFor((m) => m.type === "frame" && m.t0 >= 20.02 - 1e-9 && c.messages.indexOf(m as never) > c.messages.indexOf(back as never))) as FrameMessage;
    expect(after.counts.arrivals).toBe(0);
    expect(after.counts.steps).toBe(0);
    const info = await (await fetch(`${server.url}/api/runs/${id}`)).json();
    expect(info.t).toBeCloseTo(20.02, 9);
    // Steps still work after a seek: one step finishes request 40 (its third token) at 20.03.
    c.send({ type: "step", n: 1 });
    await c.waitFor((m) => m.type === "frame" && m.events.some((e) => e.type === "finished" && e.reqId === 40));
    c.ws.close();
  });

  it("speed changes frame content, not frame rate", async () => {
    const trace = await uploadTrace(server.url, nativeTrace(2000, 0.05, 64, 4));
    const id = await createRun(server.url, { kind: "replay", speed: 1, config: { trace, stepTimeS: 0.002 } });
    const c = connect(server.url, id);
    await c.waitFor(isState("running"));
    await sleep(300);
    const window = async (ms: number) => {
      const from = c.of("frame").length;
      await sleep(ms);
      const fs = c.of("frame").slice(from);
      return { n: fs.length, span: fs.length ? fs[fs.length - 1].t1 - fs[0].t0 : 0 };
    };
    const slow = await window(1500);
    c.send({ type: "speed", speed: 20 });
    await c.waitFor((m) => m.type === "state" && m.speed === 20);
    await sleep(200);
    const fast = await window(1500);
    // FRAME-1: ≤ 30 frames per wall second at both speeds (1.5 s → ≤ 45, with slack for timer jitter)…
    expect(slow.n).toBeLessThanOrEqual(48);
    expect(fast.n).toBeLessThanOrEqual(48);
    expect(fast.n).toBeGreaterThan(slow.n * 0.4);
    expect(fast.n).toBeLessThan(slow.n * 2.5);
    // …while each frame covers ~20× more simulated time (1 s/s → 20 s/s; generous bounds for a loaded machine).
    expect(fast.span / slow.span).toBeGreaterThan(5);
    expect(fast.span / slow.span).toBeLessThan(40);
    c.ws.close();
  });

  it("blocks subscription sends the block map, then block events", async () => {
    const trace = await uploadTrace(server.url, nativeTrace(20, 0.1, 100, 20));
    const id = await createRun(server.url, { kind: "replay", start: "paused", config: { trace, stepTimeS: 0.01, numGpuBlocksOverride: 64, maxModelLen: 512 } });
    const c = connect(server.url, id);
    await c.waitFor(isState("paused"));
    c.send({ type: "subscribe", detail: ["blocks", "requests"] });
    const blocks = await c.waitFor((m) => m.type === "blocks");
    if (blocks.type !== "blocks") throw new Error();
    expect(blocks.state).toHaveLength(64);
    expect(blocks.state[0]).toBe(3); // block 0 is vLLM's null block
    expect(blocks.state.slice(1).every((s) => s === 0)).toBe(true);
    c.send({ type: "step", n: 5 });
    await sleep(200);
    expect(c.of("blocks")).toHaveLength(1); // one map per subscription, not one per internal request
    // The first request (100 prompt tokens, block size 16) needs ceil(100/16) = 7 blocks at its prefill.
    const f = await c.waitFor((m) => m.type === "frame" && m.events.some((e) => e.type === "blocks_allocated"));
    if (f.type !== "frame") throw new Error();
    const alloc = f.events.find((e) => e.type === "blocks_allocated");
    expect(alloc && "blockIds" in alloc ? alloc.blockIds.length : 0).toBe(7);
    expect(f.events.some((e) => e.type === "step")).toBe(false); // not subscribed to steps
    expect(f.snapshots).toHaveLength(0); // not subscribed to memory
    c.ws.close();
    // A subscription in the URL works the same: the map comes without a `subscribe` message.
    const d = connect(server.url, id, "?detail=blocks");
    const map = await d.waitFor((m) => m.type === "blocks");
    if (map.type !== "blocks") throw new Error();
    expect(map.state).toHaveLength(64);
    // Joining after 5 steps of 0.01 s: request 0 alone (request 1 arrives at 0.1 s) holds its 7 blocks in one
    // table; 104 tokens computed, so its first ⌊104/16⌋ = 6 blocks are hashed (prefix caching is on by default).
    const ids = alloc && "blockIds" in alloc ? alloc.blockIds : [];
    expect(map.tables).toEqual([[0, 0, ...ids]]);
    expect(map.cachedInUse).toEqual([...ids.slice(0, 6)].sort((a, b) => a - b));
    d.ws.close();
  });

  it("refuses foreign origins and unknown runs; answers bad messages and survives; closes floods", async () => {
    const id = await createRun(server.url, { kind: "replay", start: "paused", config: { maxRequests: 10 } });
    const evil = connect(server.url, id, "", { origin: "http://evil.example" });
    const evilClose = await evil.closed;
    expect(evilClose.code).not.toBe(1000);
    expect(evil.messages).toHaveLength(0);
    const host = new URL(server.url).host;
    const same = connect(server.url, id, "", { origin: `http://${host}` });
    await same.waitFor((m) => m.type === "hello");
    same.ws.close();

    const ghost = connect(server.url, "run-ghost");
    expect((await ghost.closed).code).toBe(CLOSE_CODES.unknownRun);
    expect(ghost.messages[0]).toMatchObject({ type: "error", field: "id" });

    const c = connect(server.url, id);
    await c.waitFor(isState("paused"));
    c.send("{oops");
    c.send({ type: "warp" });
    c.send({ type: "speed", speed: 0 });
    c.send({ type: "play", runId: "run-other" });
    c.send({ type: "pause" }); // already paused: refused by the machine
    await sleep(300);
    const errors = c.of("error");
    expect(errors.map((e) => e.field)).toEqual([undefined, "type", "speed", "runId", "type"]);
    expect(errors[4].message).toBe("cannot pause a paused run: it is already paused");
    c.send({ type: "play" });
    await c.waitFor(isState("running"));
    // Flood: > 5 × 50 messages in a second closes with the flood code; before that, rate-limit errors.
    for (let i = 0; i < 400; i++) c.send({ type: "speed", speed: 2 });
    expect((await c.closed).code).toBe(CLOSE_CODES.flood);
    expect(c.of("error").some((e) => e.message.startsWith("rate limit"))).toBe(true);
    // The server is still fine.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

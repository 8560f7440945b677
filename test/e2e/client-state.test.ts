/**
 * The client's copy of the engine state, checked against the engine itself (no browser): a replay with per-block
 * events is fed, one engine step per frame, through the same `ServeStore` the Serve view uses, and after every
 * step the client's block map must equal `engine.blockStates()` block for block, and its request tracking must
 * give the engine's own TTFTs and preemption count. The workload shares a system prompt (prefix hits, cached-free
 * blocks) and runs on a pool small enough to preempt and evict.
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { synthesize } from "../../sim/traces/synth.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import { ServeStore } from "../../client/src/data/serve-store.ts";
import { frameOf, helloFor, replayEngine } from "./store-feed.ts";
import { slimMessage, ScheduleFilter } from "../../client/src/data/frame-pack.ts";


describe("ServeStore against the engine", () => {
  it("rebuilds the exact block map and the engine's TTFTs and preemptions from the event stream", () => {
    const config = resolveServingConfig({
      model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100-SXM-80GB", maxModelLen: 1024,
      numGpuBlocksOverride: 160, maxNumSeqs: 16, maxNumBatchedTokens: 512, seed: 1,
    });
    const trace = synthesize({
      numRequests: 120, requestRate: 40, seed: 7, systemPromptTokens: 256, numSystemPrompts: 3,
      promptLen: { kind: "uniform", min: 40, max: 400 }, outputLen: { kind: "uniform", min: 8, max: 160 },
    });
    let events: EngineEvent[] = [];
    const engine = replayEngine(config, trace, (e) => events.push(e));
    const store = new ServeStore();
    store.apply(helloFor("test", engine, config));
    expect(store.blocks.n).toBe(160);
    let seq = 0;
    let steps = 0;
    let sawCachedFree = false;
    let sawEviction = false;
    let mismatches = 0;
    while (engine.step()) {
      const t0 = events.length ? events[0].t : engine.now;
      store.apply(frameOf(seq++, events, t0, engine.now));
      sawEviction ||= events.some((e) => e.type === "blocks_evicted");
      events = [];
      steps++;
      const truth = engine.blockStates().state;
      for (let b = 0; b < truth.length; b++) if (store.blocks.state[b] !== truth[b]) mismatches++;
      const snap = engine.snapshot();
      const c = store.blocks.counts();
      expect([c.used, c.cachedFree, c.free]).toEqual([snap.numUsedBlocks, snap.numCachedFreeBlocks, snap.numFreeBlocks]);
      sawCachedFree ||= c.cachedFree > 0;
    }
    expect(mismatches).toBe(0);
    const summary = engine.summary();
    // The workload exercised every path of the block map.
    expect(steps).toBeGreaterThan(100);
    expect(sawCachedFree).toBe(true);
    expect(sawEviction).toBe(true);
    expect(summary.preemptions).toBeGreaterThan(0);
    expect(summary.prefixCacheHitTokens).toBeGreaterThan(0);
    // Request lifetimes: the engine's TTFT of every request and its preemption total.
    const records = engine.requestRecords().filter((r) => r.firstTokenTime !== null);
    const ttftByEngine = records.map((r) => r.firstTokenTime! - r.arrival).sort((a, b) => a - b);
    const ttftByClient = [...store.requests.ttfts].sort((a, b) => a - b);
    expect(ttftByClient).toEqual(ttftByEngine);
    expect(store.requests.preemptions).toBe(summary.preemptions);
    expect(store.requests.finishedCount).toBe(summary.completed);
    // Every request that was preempted shows a preempted segment, and recomputing follows its re-admission.
    for (const r of engine.requestRecords().filter((x) => x.preemptions > 0)) {
      const track = store.requests.byId.get(r.id)!;
      expect(track.segments.filter((s) => s.kind === "preempted").length).toBe(r.preemptions);
      expect(track.segments.some((s) => s.kind === "recomputing")).toBe(true);
    }
  });
});

describe("the stream worker's slimmed frames (frame-pack.ts)", () => {
  it("give the same block map, request lifetimes and markers as the full frames, with far fewer schedule entries", () => {
    // Same tight pool as above, more load: preemptions mid-prefill and mid-decode, recomputation, evictions.
    const config = resolveServingConfig({
      model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "H100-SXM-80GB", maxModelLen: 1024,
      numGpuBlocksOverride: 120, maxNumSeqs: 24, maxNumBatchedTokens: 256, seed: 3,
    });
    const trace = synthesize({
      numRequests: 150, requestRate: 60, seed: 11, systemPromptTokens: 192, numSystemPrompts: 2,
      promptLen: { kind: "uniform", min: 30, max: 500 }, outputLen: { kind: "uniform", min: 4, max: 200 },
    });
    let events: EngineEvent[] = [];
    const engine = replayEngine(config, trace, (e) => events.push(e));
    const hello = helloFor("slim", engine, config);
    const full = new ServeStore();
    const slim = new ServeStore();
    full.apply(hello, 0);
    slim.apply(hello, 0);
    const filter = new ScheduleFilter();
    let seq = 0, fullEntries = 0, slimEntries = 0, stepsPerFrame = 0;
    while (engine.step()) {
      // Several engine steps per frame, as at full speed, so a frame mixes steps, frees and re-allocations.
      if (++stepsPerFrame < 5) continue;
      stepsPerFrame = 0;
      const frame = frameOf(seq++, events, events.length ? events[0].t : engine.now, engine.now);
      events = [];
      // structuredClone stands in for postMessage from the worker.
      const slimmed = structuredClone(slimMessage(frame, filter));
      for (const e of frame.events) if (e.type === "step") fullEntries += e.scheduled.length;
      if (slimmed.type === "frame") for (const e of slimmed.events) if (e.type === "step") slimEntries += e.scheduled.length;
      full.apply(frame, seq);
      slim.apply(slimmed, seq);
    }
    const last = frameOf(seq++, events, engine.now, engine.now);
    full.apply(last, seq);
    slim.apply(structuredClone(slimMessage(last, filter)), seq);
    const summary = engine.summary();
    expect(summary.preemptions).toBeGreaterThan(0);
    expect(summary.prefixCacheHitTokens).toBeGreaterThan(0);
    for (const k of ["state", "owner", "refCnt", "chainPos", "hashed", "flashKind"] as const) expect(slim.blocks[k]).toEqual(full.blocks[k]);
    expect(slim.blocks.state).toEqual(Uint8Array.from(engine.blockStates().state));
    expect(slim.markers).toEqual(full.markers);
    expect(slim.markers.some((m) => m.kind === "eviction")).toBe(true);
    expect(slim.requests.order.length).toBe(150);
    for (const r of full.requests.order) expect(slim.requests.byId.get(r.id)).toEqual(r);
    expect(slim.requests.ttfts).toEqual(full.requests.ttfts);
    expect(slim.requests.tpots).toEqual(full.requests.tpots);
    // Recomputing → decode transitions survived the filter (they need a decode entry).
    const recomputedThenDecoded = full.requests.order.filter((r) => r.segments.some((s, i) => s.kind === "recomputing" && r.segments[i + 1]?.kind === "decode"));
    expect(recomputedThenDecoded.length).toBeGreaterThan(0);
    // Decode entries are most of the schedule: the slimmed stream keeps well under half of them.
    expect(slimEntries).toBeLessThan(fullEntries * 0.5);
  });
});

describe("ServeStore snapshot bound", () => {
  it("thins the older half past MAX_SNAPSHOTS, keeping order and the larger of each pair (peaks survive)", async () => {
    const { MAX_SNAPSHOTS } = await import("../../client/src/data/serve-store.ts");
    const store = new ServeStore();
    const snap = (t: number, kv: number) => ({
      t, weightsBytes: 1, activationBytes: 1, nonTorchBytes: 1, kvUsedBytes: kv, kvCachedFreeBytes: 0, kvFreeBytes: 0,
      numUsedBlocks: 0, numCachedFreeBlocks: 0, numFreeBlocks: 0, kvUsage: 0, numRunning: 0, numWaiting: 0,
    });
    const n = MAX_SNAPSHOTS + 1;
    // A one-sample spike at an odd index (the second of its pair), which plain every-other-sample decimation loses.
    const snapshots = Array.from({ length: n }, (_, i) => snap(i, i === 1001 ? 1e12 : 10));
    store.apply({ ...frameOf(0, [], 0, n), snapshots }, 0);
    const half = n >> 1; // 100,000 older snapshots become 50,000
    expect(store.snapshots.length).toBe(n - half / 2);
    expect(store.compactedSamples).toBe(half / 2);
    expect(store.snapshots.some((s) => s.kvUsedBytes === 1e12 && s.t === 1001)).toBe(true);
    expect(store.snapshots.every((s, i) => i === 0 || s.t > store.snapshots[i - 1].t)).toBe(true); // STORE-1
    // The newer half is untouched: hover there is at full resolution.
    expect(store.snapshotAt(150_000.5)!.t).toBe(150_000);
  });
});

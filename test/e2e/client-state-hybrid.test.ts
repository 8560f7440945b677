/**
 * The client's copy of the engine state on hybrid and sliding-window models (kv-cache-coordinator.ts), checked
 * against the engine itself as test/e2e/client-state.test.ts does for a full-attention model: a replay with per-block
 * events is fed, one engine step per frame, through the Serve view's `ServeStore`, and after every step the client's
 * block map must equal `engine.blockStates()` block for block. Here a request's blocks come from two KV-cache groups
 * sharing one pool, and the sliding group frees blocks outside its window while the request runs (reported as
 * `blocks_freed`); the pool is small enough to preempt and evict, and a shared system prompt gives prefix hits in both
 * groups. After every step, every block a running request holds must also show, as its chain position, its index in
 * the engine's own block table of its KV-cache group (`coord.blockTable(req, g)`), cached or not: the events'
 * `groupBlocks` make that exact, and the same stream without them (one concatenated table per request) does not.
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig, type ServingConfigInput } from "../../sim/serving/config.ts";
import { KVCacheCoordinator } from "../../sim/serving/kv-cache-coordinator.ts";
import { synthesize } from "../../sim/traces/synth.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import { ServeStore } from "../../client/src/data/serve-store.ts";
import { frameOf, helloFor, replayEngine } from "./store-feed.ts";
import { slimMessage, ScheduleFilter } from "../../client/src/data/frame-pack.ts";
import { GiB } from "../../sim/units.ts";


function replayThroughStore(input: ServingConfigInput, numBlocks: number) {
  const config = resolveServingConfig({ gpu: "H100-SXM-80GB", kvCacheMemoryBytes: 8 * GiB, numGpuBlocksOverride: numBlocks, ...input });
  const trace = synthesize({
    numRequests: 120, requestRate: 30, seed: 7, systemPromptTokens: 256, numSystemPrompts: 3,
    promptLen: { kind: "uniform", min: 40, max: 700 }, outputLen: { kind: "uniform", min: 8, max: 300 },
  });
  let events: EngineEvent[] = [];
  const engine = replayEngine(config, trace, (e) => events.push(e));
  const store = new ServeStore();
  store.apply(helloFor("hybrid", engine, config));
  // the same stream without `groupBlocks`: what the client did before, one concatenated table per request
  const ungrouped = new ServeStore();
  ungrouped.apply(helloFor("hybrid-ungrouped", engine, config));
  const coord = engine.kvCacheManager as KVCacheCoordinator;
  const seen = {
    steps: 0, mismatches: 0, cachedFree: false, eviction: false, windowFrees: 0, nullInEvents: 0,
    /** Held blocks whose client chain position was compared with their engine table index, and how many differed. */
    positions: 0, uncachedPositions: 0, wrongPositions: 0, wrongGroups: 0, wrongUngrouped: 0, groupedEvents: 0,
  };
  let seq = 0;
  const finishedIds = new Set<number>();
  while (engine.step()) {
    for (const e of events) {
      if (e.type === "finished") finishedIds.add(e.reqId);
      if ("blockIds" in e && e.blockIds.includes(0)) seen.nullInEvents++;
    }
    // a blocks_freed at the step's start for a request that neither finished nor was preempted: a window drop
    const preempted = new Set(events.filter((e) => e.type === "preempted").map((e) => e.reqId));
    seen.windowFrees += events.filter((e) => e.type === "blocks_freed" && !preempted.has(e.reqId) && !finishedIds.has(e.reqId)).length;
    store.apply(frameOf(seq, events, events.length ? events[0].t : engine.now, engine.now));
    seen.groupedEvents += events.filter((e) => "groupBlocks" in e).length;
    const stripped = events.map((e) => {
      if (e.type !== "blocks_allocated" && e.type !== "blocks_touched") return e;
      const { groupBlocks: _, ...rest } = e;
      return rest;
    });
    ungrouped.apply(frameOf(seq++, stripped, events.length ? events[0].t : engine.now, engine.now));
    seen.eviction ||= events.some((e) => e.type === "blocks_evicted");
    // Every held block's chain position (what the block map's hover shows) is its index in the engine's own table
    // of its KV-cache group, whether or not it is cached yet; together the running requests' tables hold every
    // used block (a shared prefix block sits at the same index in every table that holds it: the hash chain).
    const held = new Set<number>();
    for (const r of engine.scheduler.running)
      for (let g = 0; g < coord.numGroups; g++)
        coord.blockTable(r, g).forEach((b, i) => {
          if (b === 0) return; // the null block: a position the sliding window dropped
          held.add(b);
          seen.positions++;
          if (!store.blocks.hashed[b]) seen.uncachedPositions++;
          if (store.blocks.chainPos[b] !== i) seen.wrongPositions++;
          if (store.blocks.group[b] !== g) seen.wrongGroups++; // what the hover names on hybrid models
          if (ungrouped.blocks.chainPos[b] !== i) seen.wrongUngrouped++;
        });
    expect(held.size).toBe(engine.snapshot().numUsedBlocks);
    events = [];
    seen.steps++;
    const truth = engine.blockStates().state;
    for (let b = 0; b < truth.length; b++) if (store.blocks.state[b] !== truth[b]) seen.mismatches++;
    const snap = engine.snapshot();
    const c = store.blocks.counts();
    expect([c.used, c.cachedFree, c.free]).toEqual([snap.numUsedBlocks, snap.numCachedFreeBlocks, snap.numFreeBlocks]);
    seen.cachedFree ||= c.cachedFree > 0;
    (engine.kvCacheManager as KVCacheCoordinator).checkInvariants(engine.scheduler.running);
  }
  return { engine, store, seen };
}

describe("ServeStore against the engine, KV-cache groups", () => {
  for (const [model, numBlocks] of [["openai/gpt-oss-120b", 240], ["google/gemma-2-9b", 240], ["mistralai/Mistral-7B-v0.1", 140]] as const)
    it(`${model}: the exact block map, TTFTs and preemptions from the event stream (${numBlocks} blocks)`, () => {
      const { engine, store, seen } = replayThroughStore(
        { model, maxModelLen: 1024, maxNumSeqs: 16, maxNumBatchedTokens: 512, seed: 1 },
        numBlocks,
      );
      expect(engine.kvCacheManager).toBeInstanceOf(KVCacheCoordinator);
      expect(store.blocks.n).toBe(numBlocks);
      expect(seen.mismatches).toBe(0);
      expect(seen.nullInEvents).toBe(0);
      // exact chain positions for every held block after every step, uncached ones included; the KV-cache groups'
      // counts are what makes them exact: with one concatenated table per request, positions go wrong
      expect(seen.positions).toBeGreaterThan(10_000);
      expect(seen.uncachedPositions).toBeGreaterThan(1_000);
      expect(seen.wrongPositions).toBe(0);
      expect(seen.wrongGroups).toBe(0);
      if (model === "mistralai/Mistral-7B-v0.1") {
        expect(seen.groupedEvents).toBe(0); // one group: the stream is unchanged
        expect(seen.wrongUngrouped).toBe(0);
      } else {
        expect(seen.groupedEvents).toBeGreaterThan(100);
        expect(seen.wrongUngrouped).toBeGreaterThan(1_000);
      }
      const summary = engine.summary();
      // the workload exercised every path: window drops (gpt-oss's 128-token window; Gemma-2's and Mistral's 4096
      // tokens are longer than any request here, so nothing leaves their window), prefix hits, cached-free blocks,
      // evictions, preemptions
      expect(seen.steps).toBeGreaterThan(100);
      if (model === "openai/gpt-oss-120b") expect(seen.windowFrees).toBeGreaterThan(100);
      else expect(seen.windowFrees).toBe(0);
      expect(seen.cachedFree).toBe(true);
      expect(seen.eviction).toBe(true);
      expect(summary.preemptions).toBeGreaterThan(0);
      expect(summary.prefixCacheHitTokens).toBeGreaterThan(0);
      const records = engine.requestRecords().filter((r) => r.firstTokenTime !== null);
      const ttftByEngine = records.map((r) => r.firstTokenTime! - r.arrival).sort((a, b) => a - b);
      expect([...store.requests.ttfts].sort((a, b) => a - b)).toEqual(ttftByEngine);
      expect(store.requests.preemptions).toBe(summary.preemptions);
      expect(store.requests.finishedCount).toBe(summary.completed);
    });
});

describe("the stream worker's slimmed frames on a hybrid model", () => {
  it("give the same block map as the full frames and the engine (gpt-oss-120b, window drops, 5 steps per frame)", () => {
    const config = resolveServingConfig({
      model: "openai/gpt-oss-120b", gpu: "H100-SXM-80GB", kvCacheMemoryBytes: 8 * GiB, numGpuBlocksOverride: 200,
      maxModelLen: 1024, maxNumSeqs: 24, maxNumBatchedTokens: 256, seed: 3,
    });
    const trace = synthesize({
      numRequests: 100, requestRate: 60, seed: 11, systemPromptTokens: 192, numSystemPrompts: 2,
      promptLen: { kind: "uniform", min: 30, max: 500 }, outputLen: { kind: "uniform", min: 4, max: 200 },
    });
    let events: EngineEvent[] = [];
    const engine = replayEngine(config, trace, (e) => events.push(e));
    const hello = helloFor("slim-hybrid", engine, config);
    const full = new ServeStore();
    const slim = new ServeStore();
    full.apply(hello, 0);
    slim.apply(hello, 0);
    const filter = new ScheduleFilter();
    let seq = 0, stepsPerFrame = 0, frames = 0;
    const flush = () => {
      const frame = frameOf(seq++, events, events.length ? events[0].t : engine.now, engine.now);
      events = [];
      full.apply(frame, seq);
      slim.apply(structuredClone(slimMessage(frame, filter)), seq);
      frames++;
      expect(slim.blocks.state).toEqual(Uint8Array.from(engine.blockStates().state));
    };
    while (engine.step()) if (++stepsPerFrame % 5 === 0) flush();
    flush();
    expect(frames).toBeGreaterThan(20);
    expect(engine.summary().preemptions).toBeGreaterThan(0);
    for (const k of ["state", "owner", "refCnt", "chainPos", "hashed"] as const) expect(slim.blocks[k]).toEqual(full.blocks[k]);
  });
});

describe("chain positions through sliding-window drops", () => {
  it("Phi-3-mini (one sliding group, 2047-token window): every held block's hover position is its engine table index", () => {
    // Prompts of 2,300–3,000 tokens pass the 2047-token window during prefill, so the engine drops blocks (null in
    // its table) while the request runs; the client must keep the later blocks at their own positions.
    const config = resolveServingConfig({
      model: "microsoft/Phi-3-mini-4k-instruct", gpu: "H100-SXM-80GB", kvCacheMemoryBytes: 8 * GiB,
      numGpuBlocksOverride: 900, maxModelLen: 4096, maxNumSeqs: 8, maxNumBatchedTokens: 512, seed: 2,
    });
    const trace = synthesize({
      numRequests: 12, requestRate: 4, seed: 5,
      promptLen: { kind: "uniform", min: 2300, max: 3000 }, outputLen: { kind: "uniform", min: 20, max: 200 },
    });
    let events: EngineEvent[] = [];
    const engine = replayEngine(config, trace, (e) => events.push(e));
    const store = new ServeStore();
    store.apply(helloFor("phi3", engine, config));
    const coord = engine.kvCacheManager as KVCacheCoordinator;
    let seq = 0, checked = 0, holes = 0, wrong = 0;
    while (engine.step()) {
      store.apply(frameOf(seq++, events, events.length ? events[0].t : engine.now, engine.now));
      events = [];
      for (const r of engine.scheduler.running) {
        const table = coord.blockTable(r, 0);
        table.forEach((b, i) => {
          if (b === 0) return void holes++;
          checked++;
          if (store.blocks.chainPos[b] !== i) wrong++;
        });
      }
    }
    expect(holes).toBeGreaterThan(0); // blocks did leave the window
    expect(checked).toBeGreaterThan(1000);
    expect(wrong).toBe(0);
  });
});

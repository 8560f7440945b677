/**
 * A viewer that joins mid-run (or seeks): the server sends the whole block map (`blocks`: state, owner, and each
 * running request's block table per KV-cache group), then per-block events. From that point on the client's copy
 * must be exact: the state of every block after every step (a prefix block shared by several requests stays in use
 * until its last holder frees it, so reference counts come from the tables), and every held block's chain position
 * and group (the hover) equal to its index in the engine's own table.
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { KVCacheCoordinator } from "../../sim/serving/kv-cache-coordinator.ts";
import { synthesize } from "../../sim/traces/synth.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import { ServeStore } from "../../client/src/data/serve-store.ts";
import { frameOf, helloFor, replayEngine } from "./store-feed.ts";
import { GiB } from "../../sim/units.ts";

/**
 * `switchOn`: the engine runs without block events until the join and turns them on there (what the server's worker
 * does when the first viewer subscribes to the block map mid-run); otherwise it emits them from the start.
 */
function joinAt(model: string, numBlocks: number, joinStep: number, withTables: boolean, switchOn = false) {
  const config = resolveServingConfig({ model, gpu: "H100-SXM-80GB", kvCacheMemoryBytes: 8 * GiB, numGpuBlocksOverride: numBlocks, maxModelLen: 1280 });
  // Three shared system prompts: many running requests hold the same prefix blocks when the viewer joins.
  const trace = synthesize({
    numRequests: 120, requestRate: 30, seed: 11, systemPromptTokens: 256, numSystemPrompts: 3,
    promptLen: { kind: "uniform", min: 40, max: 700 }, outputLen: { kind: "uniform", min: 8, max: 300 },
  });
  let events: EngineEvent[] = [];
  const engine = replayEngine(config, trace, (e) => events.push(e), !switchOn);
  for (let i = 0; i < joinStep; i++) engine.step();
  if (switchOn) engine.setBlockDetail(true);
  events = [];
  const store = new ServeStore();
  store.apply(helloFor("join", engine, config));
  const { state, owner } = engine.blockStates();
  store.apply({ type: "blocks", t: engine.now, state: Array.from(state), owner: Array.from(owner), ...(withTables ? { tables: engine.blockTables(), cachedInUse: engine.cachedInUseBlocks() } : {}) });
  const shared = engine.blockTables().flatMap((r) => r.slice(2)).filter((b, i, a) => b > 0 && a.indexOf(b) !== i).length;
  const coord = engine.kvCacheManager instanceof KVCacheCoordinator ? engine.kvCacheManager : null;
  const tablesOf = (reqId: number) => {
    const r = engine.scheduler.running.find((x) => x.reqId === reqId)!;
    return coord ? Array.from({ length: coord.numGroups }, (_, g) => coord.blockTable(r, g)) : [engine.kvCacheManager.blocksOf(r)];
  };
  const seen = { steps: 0, stateMismatches: 0, positions: 0, wrongPositions: 0, wrongGroups: 0, shared, stream: [] as EngineEvent[] };
  let seq = 0;
  while (engine.step()) {
    seen.stream.push(...events);
    store.apply(frameOf(seq++, events, events.length ? events[0].t : engine.now, engine.now));
    events = [];
    seen.steps++;
    const truth = engine.blockStates().state;
    for (let b = 0; b < truth.length; b++) if (store.blocks.state[b] !== truth[b]) seen.stateMismatches++;
    for (const r of engine.scheduler.running)
      tablesOf(r.reqId).forEach((table, g) =>
        table.forEach((b, i) => {
          if (b === 0) return;
          seen.positions++;
          if (store.blocks.chainPos[b] !== i) seen.wrongPositions++;
          if (coord && store.blocks.group[b] !== g) seen.wrongGroups++;
        }),
      );
  }
  return seen;
}

describe("ServeStore joining a run mid-way (`blocks` with tables)", () => {
  for (const [model, numBlocks] of [["meta-llama/Llama-3.1-8B-Instruct", 160], ["openai/gpt-oss-120b", 240]] as const)
    it(`${model}: exact block states, chain positions and groups from the join on`, () => {
      const seen = joinAt(model, numBlocks, 150, true);
      expect(seen.shared).toBeGreaterThan(0); // prefix blocks held by several requests at the join
      expect(seen.steps).toBeGreaterThan(100);
      expect(seen.positions).toBeGreaterThan(10_000);
      expect(seen.stateMismatches).toBe(0);
      expect(seen.wrongPositions).toBe(0);
      expect(seen.wrongGroups).toBe(0);
      // Without the tables and the hashed list (the message before they were added) the same join goes wrong: shared
      // blocks look free when their first holder frees them, freed hashed blocks look uncached, and positions of
      // blocks held at the join are unknown.
      const old = joinAt(model, numBlocks, 150, false);
      expect(old.wrongPositions).toBeGreaterThan(100);
      expect(old.stateMismatches).toBeGreaterThan(0);
    });

  for (const [model, numBlocks] of [["meta-llama/Llama-3.1-8B-Instruct", 160], ["openai/gpt-oss-120b", 240]] as const)
    it(`${model}: block events turned on mid-run are exactly those of an engine that always had them`, () => {
      const always = joinAt(model, numBlocks, 150, true);
      const switched = joinAt(model, numBlocks, 150, true, true);
      expect(switched.stream.filter((e) => e.type.startsWith("blocks_")).length).toBeGreaterThan(1000);
      expect(switched.stream).toEqual(always.stream);
      expect(switched.stateMismatches).toBe(0);
      expect(switched.wrongPositions).toBe(0);
    });
});

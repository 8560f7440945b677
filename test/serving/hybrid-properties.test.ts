/**
 * Properties of the KV-cache-group engine (kv-cache-coordinator.ts) on random traces and small pools:
 * - differential: a sliding window no request can outgrow (window ≥ max_model_len) never drops a block and finds the
 *   same prefix hits as full attention, so a sliding-window model replays exactly as the same model without a window
 *   (the single-table KVCacheManager): same summary, same event stream block for block;
 * - on hybrid and sliding models (gpt-oss window 128, Phi-3 window 2047 → here a short one): every step keeps the
 *   pool's and the tables' invariants (INV-1, COORD-1/3, SWA-1/2), a sliding group never holds more than vLLM's
 *   per-request bound ⌈min(w − 1 + max_num_batched_tokens, L) / bs⌉ + 1 blocks, and every request finishes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveModel } from "../../sim/model/registry.ts";
import type { ModelSpec } from "../../sim/model/types.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { ServingEngine } from "../../sim/serving/engine.ts";
import { KVCacheCoordinator } from "../../sim/serving/kv-cache-coordinator.ts";
import { KVCacheManager } from "../../sim/serving/kv-cache-manager.ts";
import { NULL_BLOCK } from "../../sim/serving/single-type-kv-cache-manager.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { traceArb as makeTraceArb } from "./trace-arb.ts";
import { GiB } from "../../sim/units.ts";

const traceArb = makeTraceArb({ maxGap: 0.3, maxPromptTokens: 400, maxOutputTokens: 100, alphabet: 3, maxPrefixChunks: 20 });

const configArb = fc.record({
  blockSize: fc.constantFrom(8, 16),
  numGpuBlocksOverride: fc.integer({ min: 150, max: 400 }),
  maxNumSeqs: fc.integer({ min: 1, max: 16 }),
  maxNumBatchedTokens: fc.integer({ min: 512, max: 1024 }),
  enablePrefixCaching: fc.boolean(),
  schedulingPolicy: fc.constantFrom("fcfs" as const, "priority" as const),
  freeQueueOrder: fc.constantFrom("append" as const, "split" as const),
});

function replayEvents(model: ModelSpec, c: object, trace: TraceRequest[]) {
  const events: EngineEvent[] = [];
  const engine = new ServingEngine(
    resolveServingConfig({ model, gpu: "H100-SXM-80GB", maxModelLen: 512, stepTimeS: 0.01, kvCacheMemoryBytes: 8 * GiB, ...c }),
    { onEvent: (e) => events.push(e), detail: { blocks: true }, checkInvariants: true },
  );
  engine.addRequests(trace);
  engine.endTrace();
  return { engine, summary: engine.runToEnd(), events };
}

describe("KV-cache groups: properties", () => {
  it("a window longer than max_model_len replays exactly as full attention", () => {
    const mistral = resolveModel("mistralai/Mistral-7B-v0.1");
    const full: ModelSpec = { ...mistral, slidingWindow: undefined };
    fc.assert(
      fc.property(configArb, traceArb, fc.integer({ min: 512, max: 5000 }), (c, trace, window) => {
        const a = replayEvents({ ...mistral, slidingWindow: window }, c, trace);
        const b = replayEvents(full, c, trace);
        expect(a.engine.kvCacheManager).toBeInstanceOf(KVCacheCoordinator);
        expect(b.engine.kvCacheManager).toBeInstanceOf(KVCacheManager);
        expect(a.summary).toEqual(b.summary);
        expect(a.events).toEqual(b.events);
      }),
      { numRuns: 25 },
    );
  });

  it("hybrid and sliding models: invariants every step, the per-request window bound, every request finishes", () => {
    const models: ModelSpec[] = [
      resolveModel("openai/gpt-oss-120b"),
      { ...resolveModel("microsoft/Phi-3-mini-4k-instruct"), slidingWindow: 100 },
      { ...resolveModel("google/gemma-2-9b"), slidingWindow: 64 },
    ];
    fc.assert(
      // small step budgets (chunked prefills) so the window bound is far below a full-length table
      fc.property(configArb, fc.integer({ min: 32, max: 256 }), traceArb, fc.constantFrom(0, 1, 2), (c0, budget, trace, m) => {
        const c = { ...c0, maxNumBatchedTokens: budget };
        const model = models[m];
        const config = resolveServingConfig({ model, gpu: "H100-SXM-80GB", maxModelLen: 512, stepTimeS: 0.01, kvCacheMemoryBytes: 8 * GiB, ...c });
        const engine = new ServingEngine(config, { checkInvariants: true });
        const kv = engine.kvCacheManager as KVCacheCoordinator;
        const window = model.slidingWindow!;
        const bound = Math.ceil(Math.min(window - 1 + c.maxNumBatchedTokens, 512) / c.blockSize) + 1;
        engine.addRequests(trace);
        engine.endTrace();
        while (engine.step())
          for (const r of engine.scheduler.running)
            kv.groupSpecs.forEach((g, i) => {
              if (g.kind !== "sliding_window") return;
              const live = kv.blockTable(r, i).filter((b) => b !== NULL_BLOCK).length;
              if (live > bound) throw new Error(`request ${r.reqId} holds ${live} > ${bound} blocks in group ${i}`);
            });
        const s = engine.summary();
        expect(s.completed + s.rejected).toBe(trace.length);
        expect(kv.blockPool.getNumFreeBlocks()).toBe(kv.blockPool.numGpuBlocks - 1);
      }),
      { numRuns: 30 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { replay } from "../../sim/serving/engine.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { traceArb as makeTraceArb } from "./trace-arb.ts";

/** Random traces with shared prefixes (hash ids over 16-token chunks drawn from a small alphabet) and priorities. */
const traceArb = makeTraceArb({ maxGap: 0.5, maxPromptTokens: 200, maxOutputTokens: 40, alphabet: 4, maxPrefixChunks: 12, maxPriority: 2 });

const configArb = fc.record({
  blockSize: fc.constantFrom(4, 8, 16),
  numGpuBlocksOverride: fc.integer({ min: 70, max: 300 }),
  maxNumSeqs: fc.integer({ min: 1, max: 16 }),
  maxNumBatchedTokens: fc.integer({ min: 256, max: 1024 }),
  enablePrefixCaching: fc.boolean(),
  schedulingPolicy: fc.constantFrom("fcfs" as const, "priority" as const),
  freeQueueOrder: fc.constantFrom("append" as const, "split" as const),
  longPrefillTokenThreshold: fc.constantFrom(0, 0, 64),
});

const run = (c: object, trace: TraceRequest[], check = true) =>
  replay(resolveServingConfig({ maxModelLen: 256, stepTimeS: 0.01, ...c }), trace, { checkInvariants: check });

describe("serving engine properties", () => {
  it("conserves blocks every step, finishes every request, and frees everything at the end", () => {
    fc.assert(
      fc.property(configArb, traceArb, (c, trace) => {
        const e = run(c, trace); // checkInvariants: INV-1 free + referenced = usable, refCnt ≥ 0, every step
        const s = e.summary();
        expect(s.completed + s.rejected).toBe(trace.length);
        const pool = e.kvCacheManager.blockPool;
        expect(pool.getNumFreeBlocks()).toBe(pool.numGpuBlocks - 1);
        expect(e.scheduler.running.length).toBe(0);
        for (const r of e.requestRecords())
          if (!r.rejected) {
            // INV-3 arrival ≤ first scheduled ≤ first token ≤ finish
            expect(r.arrival).toBeLessThanOrEqual(r.firstScheduledTime!);
            expect(r.firstScheduledTime!).toBeLessThan(r.firstTokenTime!);
            expect(r.firstTokenTime!).toBeLessThanOrEqual(r.finishTime!);
          }
      }),
      { numRuns: 150 },
    );
  });

  it("is deterministic: the same config and trace give the same report", () => {
    fc.assert(
      fc.property(configArb, traceArb, (c, trace) => {
        expect(JSON.stringify(run(c, trace, false).summary())).toBe(JSON.stringify(run(c, trace, false).summary()));
      }),
      { numRuns: 50 },
    );
  });

  it("with prefix caching off no block is ever hit", () => {
    fc.assert(
      fc.property(configArb, traceArb, (c, trace) => {
        const s = run({ ...c, enablePrefixCaching: false }, trace).summary();
        expect(s.prefixCacheHitTokens).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it("a pool large enough for the whole trace at once never preempts", () => {
    fc.assert(
      fc.property(configArb, traceArb, (c, trace) => {
        const need = trace.reduce((n, r) => n + Math.ceil((r.promptTokens + r.outputTokens) / c.blockSize), 0);
        const s = run({ ...c, numGpuBlocksOverride: need + 1 + 64 }, trace).summary();
        expect(s.preemptions).toBe(0);
        expect(s.recomputedTokens).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it("never runs more than max_num_seqs or schedules past the token budget", () => {
    fc.assert(
      fc.property(configArb, traceArb, (c, trace) => {
        const e = run(c, trace, false);
        expect(e.summary().peakRunning).toBeLessThanOrEqual(c.maxNumSeqs);
      }),
      { numRuns: 40 },
    );
  });
});

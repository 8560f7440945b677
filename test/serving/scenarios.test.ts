import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { replay } from "../../sim/serving/engine.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";

/**
 * Hand-worked scenarios: every expected number below was derived by stepping vLLM's rules by hand (the derivation is
 * in the comments), not by running the simulator.
 */
const tiny = (over: Record<string, unknown> = {}) =>
  resolveServingConfig({
    blockSize: 4,
    numGpuBlocksOverride: 11, // 10 usable + the null block
    maxModelLen: 32,
    maxNumBatchedTokens: 64,
    maxNumSeqs: 8,
    stepTimeS: 1,
    ...over,
  });

describe("three requests on a 10-block pool (block size 4, 1 s steps)", () => {
  // A, B, C: prompt 8, output 8, all at t=0, no shared prefix.
  // step 1 (t=0→1): admit A [1,2], B [3,4], C [5,6]; 24 prefill tokens; first tokens at t=1; 4 blocks free.
  // step 2: each needs a 3rd block for token 9: A←7, B←8, C←9; 1 free.
  // steps 3–5: tokens 10–12 fit in 3 blocks.
  // step 6 (t=5): token 13 needs a 4th block: A←10 (0 free); B cannot → FCFS victim = last running = C, which had
  //   computed 12 tokens; its blocks freed in reverse [9,6,5] (all full, so hashed); B takes 9 (evicting C's 3rd block).
  //   A preemption this step → no admission.
  // step 7 (t=6): C's prefix lookup hits [5,6] (8 tokens; block 9's hash is gone); it needs 4 blocks = 2 new + 2
  //   evictable hits > 2 free → head-of-line blocked. Step 8 likewise (A, B free only at its end).
  // A and B produce their 8th token at the end of step 8 (t=8) and finish.
  // step 9 (t=8): C resumes: hit 8 tokens, recomputes 13 − 8 = 5 tokens (4 of them computed before: 12 lost − 8 hit),
  //   samples its 6th token at t=9; 7th at t=10; 8th at t=11 → finish.
  const trace: TraceRequest[] = ["A", "B", "C"].map(() => ({ arrival: 0, promptTokens: 8, outputTokens: 8 }));
  const events: EngineEvent[] = [];
  const engine = replay(tiny(), trace, { onEvent: (e) => events.push(e), detail: { blocks: true }, checkInvariants: true });
  const s = engine.summary();
  const recs = engine.requestRecords();

  it("preempts C once at t=5 and recomputes 4 tokens", () => {
    expect(s.preemptions).toBe(1);
    expect(s.recomputedTokens).toBe(4);
    const pre = events.filter((e) => e.type === "preempted");
    expect(pre).toEqual([{ type: "preempted", t: 5, reqId: 2, lostTokens: 12 }]);
  });

  it("re-hits the two prompt blocks that were not evicted", () => {
    const resumed = events.filter((e) => e.type === "admitted" && e.resumed);
    expect(resumed).toEqual([{ type: "admitted", t: 8, reqId: 2, cachedTokens: 8, resumed: true }]);
    const touched = events.filter((e) => e.type === "blocks_touched");
    expect(touched).toEqual([{ type: "blocks_touched", t: 8, reqId: 2, blockIds: [5, 6] }]);
    // B's 4th block is C's old 3rd block: its hash is dropped when it is handed out again.
    const evicted = events.filter((e) => e.type === "blocks_evicted").map((e) => (e as { blockIds: number[] }).blockIds);
    expect(evicted[0]).toEqual([9]);
  });

  it("finishes A and B at t=8 and C at t=11", () => {
    expect(recs.map((r) => [r.id, r.firstTokenTime, r.finishTime, r.preemptions])).toEqual([
      [0, 1, 8, 0],
      [1, 1, 8, 0],
      [2, 1, 11, 1],
    ]);
    expect(s.engineSteps).toBe(11);
    expect(s.simulatedSeconds).toBe(11);
    // usage is sampled once per step after it runs (vLLM's SchedulerStats): 9 of 10 blocks after steps 2–5; in step 6
    // the pool touches 10 only between A's allocation and C's preemption.
    expect(s.peakKvUsage).toBe(0.9);
  });

  it("counts prefix-cache queries and hits in tokens at each admission", () => {
    // first admissions: 8 + 8 + 8 tokens queried, 0 hit; C's resume: 13 queried, 8 hit.
    expect(s.prefixCacheQueries).toBe(37);
    expect(s.prefixCacheHitTokens).toBe(8);
    expect(recs[2].cachedTokens).toBe(0); // prefix hit at *first* admission
  });

  it("computes TPOT as (e2e − TTFT) / (outputs − 1)", () => {
    // A: (8 − 1) / 7 = 1; C: (11 − 1) / 7
    expect(s.tpot.p50).toBe(1);
    expect(s.ttft.mean).toBe(1);
    expect(s.tpot.mean).toBeCloseTo((1 + 1 + 10 / 7) / 3, 12);
  });
});

describe("timing rule", () => {
  it("a step sees arrivals at or before its start; the clock jumps when idle", () => {
    // r0 at 0: prompt 4 → one 1 s prefill step (0→1) then 1 decode step (1→2): finish at 2.
    // r1 arrives at 0.5, during step 1: first seen by the step starting at 1 (alongside r0's decode), first token at 2.
    // r2 arrives at 10: the engine is idle from 3 and jumps to 10; first token at 11.
    const trace: TraceRequest[] = [
      { arrival: 0, promptTokens: 4, outputTokens: 2 },
      { arrival: 0.5, promptTokens: 4, outputTokens: 2 },
      { arrival: 10, promptTokens: 4, outputTokens: 1 },
    ];
    const recs = replay(tiny(), trace).requestRecords();
    expect(recs.map((r) => [r.firstScheduledTime, r.firstTokenTime, r.finishTime])).toEqual([
      [0, 1, 2],
      [1, 2, 3],
      [10, 11, 11],
    ]);
  });

  it("rejects a request longer than max_model_len and counts it", () => {
    const trace: TraceRequest[] = [
      { arrival: 0, promptTokens: 30, outputTokens: 3 }, // 33 > 32
      { arrival: 0, promptTokens: 4, outputTokens: 1 },
    ];
    const e = replay(tiny(), trace);
    expect(e.summary().rejected).toBe(1);
    expect(e.summary().completed).toBe(1);
    expect(e.requestRecords()[0].rejected).toBe(true);
  });

  it("chunks a long prefill under the token budget", () => {
    // budget 8 tokens: a 20-token prompt takes 3 steps (8, 8, 4) → first token at t=3.
    const recs = replay(tiny({ maxNumBatchedTokens: 8 }), [{ arrival: 0, promptTokens: 20, outputTokens: 1 }]).requestRecords();
    expect(recs[0].firstTokenTime).toBe(3);
  });
});

describe("Mooncake hash ids map onto the simulator's blocks", () => {
  // r0: hash ids [1,2,3], 1500 tokens; r1 (after r0 finished): [1,2,9], 1400 tokens. They share 2 × 512 = 1024 tokens.
  const trace: TraceRequest[] = [
    { arrival: 0, promptTokens: 1500, outputTokens: 1, hashIds: [1, 2, 3] },
    { arrival: 100, promptTokens: 1400, outputTokens: 1, hashIds: [1, 2, 9] },
  ];
  const cfg = (blockSize: number) =>
    resolveServingConfig({ blockSize, numGpuBlocksOverride: 400, maxModelLen: 4096, stepTimeS: 0.01, maxNumBatchedTokens: 4096 });
  it("block size 16: 64 whole blocks hit (1024 tokens)", () => {
    expect(replay(cfg(16), trace).requestRecords()[1].cachedTokens).toBe(1024);
  });
  it("block size 48: only blocks wholly inside the shared 1024 tokens hit: ⌊1024/48⌋ × 48 = 1008", () => {
    expect(replay(cfg(48), trace).requestRecords()[1].cachedTokens).toBe(1008);
  });
  it("prefix caching off: no hits", () => {
    const c = resolveServingConfig({ blockSize: 16, numGpuBlocksOverride: 400, maxModelLen: 4096, stepTimeS: 0.01, enablePrefixCaching: false });
    const e = replay(c, trace);
    expect(e.requestRecords()[1].cachedTokens).toBe(0);
    expect(e.summary().prefixCacheHitTokens).toBe(0);
  });
});

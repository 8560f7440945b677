import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { replay, ServingEngine } from "../../sim/serving/engine.ts";
import type { Request } from "../../sim/serving/request.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";

/**
 * Progress (INV-5: every replay ends, a token is sampled within a bounded number of steps). The first two cases were
 * shrunk from inputs of test/serving/properties.test.ts that made a vitest worker spin forever (fast-check seeds 2,
 * 19, 29 and 40 of 42 hung that file before the fix). Expected numbers are stepped by hand below.
 */

// Block size 16, 12 blocks (11 usable), prefill chunks of 32 tokens (long_prefill_token_threshold), no prefix
// caching, PRIORITY. A (id 0) and B (id 1): priority 0, arrival 0, 144-token prompts (9 blocks), 1 output token.
const tiedPair = () => ({
  config: resolveServingConfig({
    blockSize: 16,
    numGpuBlocksOverride: 12,
    maxModelLen: 145,
    maxNumSeqs: 2,
    maxNumBatchedTokens: 2048,
    longPrefillTokenThreshold: 32,
    enablePrefixCaching: false,
    schedulingPolicy: "priority",
    stepTimeS: 1,
  }),
  trace: [0, 1].map((): TraceRequest => ({ arrival: 0, promptTokens: 144, outputTokens: 1, priority: 0 })),
});

describe("INV-5 progress: tied (priority, arrival) requests do not preempt each other forever", () => {
  // step 1 (t=0): A, B admitted, 32 tokens each → 2 blocks each, 7 free.
  // step 2: A 64 (4 blocks), B 64 (4 blocks) → 3 free.
  // step 3: A takes 2 → 96 tokens, 1 free; B needs 2 → victim = max (priority, arrival, id) = B itself: B preempted
  //   (64 computed tokens lost), A keeps its chunk. 5 free.
  // step 4: A 128 (8 blocks), 3 free; no preemption → B re-admitted, 32 tokens (2 blocks), 1 free; 64 recomputed.
  // step 5: A's last 16 tokens take its 9th block, 0 free, A samples and finishes at t=5; B needs 2 → victim B again
  //   (32 lost). steps 6–10: B alone, 32 tokens a step (144 = 4·32 + 16) → finishes at t=10; 32 more recomputed.
  // The old rule (ties to the FIRST running request, as Python's max over (priority, arrival) picks) victimised A at
  // step 3 after A was scheduled, then B at the next such step, and so on: from step 6 the state repeated every 4
  // steps (A 96 / B 32 → B 64 alone → B 96 / A 32 → A 64 alone → A 96 / B 32) with the clock running and no token.
  it("the later request of a tie is the victim, and both finish", () => {
    const { config, trace } = tiedPair();
    const e = replay(config, trace, { checkInvariants: true });
    const s = e.summary();
    expect([s.completed, s.rejected, s.preemptions, s.recomputedTokens]).toEqual([2, 0, 2, 96]);
    expect(e.requestRecords().map((r) => [r.id, r.finishTime, r.preemptions])).toEqual([
      [0, 5, 0],
      [1, 10, 2],
    ]);
  });

  it("a run that stops sampling fails fast with its state instead of spinning (the old tie rule re-installed)", () => {
    const { config, trace } = tiedPair();
    const e = new ServingEngine(config);
    // The pre-fix victim choice: largest (priority, arrival), ties to the first in running order.
    (e.scheduler as unknown as { pickVictim: () => Request }).pickVictim = function (this: { running: Request[] }) {
      let v = this.running[0];
      for (const r of this.running) if (r.priority > v.priority || (r.priority === v.priority && r.arrival > v.arrival)) v = r;
      return v;
    };
    e.addRequests(trace);
    e.endTrace();
    // Bound: 16 · (max_num_seqs + 2) · (⌈145 / 32⌉ + 2) = 16 · 4 · 7 = 448 steps without a sampled token.
    expect(() => e.runToEnd()).toThrow(/^INV-5: no token sampled in 449 engine steps .*running: #\d \(priority 0, arrival 0s/);
  });
});

describe("an empty step is not a rejection (PRIORITY: the least important running request preempts itself)", () => {
  // Block size 16, 4 blocks (3 usable), 1 s steps, no prefix caching, max_model_len 32.
  // A: priority 1, arrival 0, prompt 1, 17 outputs. X: priority 0, arrival 0.5, prompt 16, 16 outputs.
  // step 1 (t=0): A prefill → block 1; first token at t=1 (2 free).
  // step 2 (t=1): A decodes in its block; X admitted, 16 tokens → 1 block (1 free); X's first token at t=2.
  // step 3: X's 17th token takes the last block (0 free). Steps 3–16: A computes token k at step k, X token 14+k.
  // step 17 (t=16): running [A, X]; A's 17th token needs a 2nd block, none free → victim = max (priority, ...) = A
  //   itself → vLLM stops the running loop: nothing scheduled this step. The engine used to reject the head of the
  //   waiting queue here ("does not fit in the KV cache") — A, which fits the pool on its own.
  // next step (t=16→17): X's 16th token (31 computed → fits its 2 blocks), X finishes at t=17; A (17 tokens = 2
  //   blocks, 1 free) waits. step (t=17→18): A re-admitted alone, recomputes 17 tokens, samples its 17th, finishes.
  it("the self-preempted request waits and finishes; nobody is rejected", () => {
    const config = resolveServingConfig({
      blockSize: 16,
      numGpuBlocksOverride: 4,
      maxModelLen: 32,
      maxNumSeqs: 2,
      maxNumBatchedTokens: 2048,
      enablePrefixCaching: false,
      schedulingPolicy: "priority",
      stepTimeS: 1,
    });
    const trace: TraceRequest[] = [
      { arrival: 0, promptTokens: 1, outputTokens: 17, priority: 1 },
      { arrival: 0.5, promptTokens: 16, outputTokens: 16, priority: 0 },
    ];
    const events: EngineEvent[] = [];
    const e = replay(config, trace, { checkInvariants: true, onEvent: (ev) => events.push(ev) });
    const s = e.summary();
    expect([s.completed, s.rejected, s.preemptions, s.recomputedTokens]).toEqual([2, 0, 1, 16]);
    expect(e.requestRecords().map((r) => [r.id, r.firstTokenTime, r.finishTime, r.preemptions])).toEqual([
      [1, 2, 17, 0],
      [0, 1, 18, 1],
    ]);
    expect(events.filter((ev) => ev.type === "preempted")).toEqual([{ type: "preempted", t: 16, reqId: 0, lostTokens: 16 }]);
    // 18 model steps of 1 s; the empty step at t=16 takes no time and is not a step event.
    expect(events.filter((ev) => ev.type === "step")).toHaveLength(18);
    expect(s.engineSteps).toBe(18);
  });
});

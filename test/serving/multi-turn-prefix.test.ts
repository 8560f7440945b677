/**
 * A conversation's next turn repeats the previous answer in its prompt; vLLM hashes the answer's blocks as it
 * generates them (request.block_hashes grows with the output), so the next turn hits them. Traces mark this with
 * `hashIdsCoverOutput` (ShareGPT, `trace synth --turns`): the ids run on over the answer.
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { replay } from "../../sim/serving/engine.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { synthesize } from "../../sim/traces/synth.ts";

const config = resolveServingConfig({ maxModelLen: 1024, blockSize: 16, stepTimeS: 0.01, numGpuBlocksOverride: 200 });

function cachedTokensOfAdmissions(trace: TraceRequest[]): number[] {
  const admitted: number[] = [];
  replay(config, trace, { onEvent: (e: EngineEvent) => { if (e.type === "admitted" && !e.resumed) admitted.push(e.cachedTokens); } });
  return admitted;
}

describe("multi-turn conversations hit the previous answer's blocks", () => {
  // Turn 1: prompt 64 tokens (ids 0–3 of 16 tokens), answer 32 tokens (ids 4–5). Turn 2, after turn 1 finished:
  // prompt 64 + 32 + 32 = 128 tokens (ids 0–7), answer 8.
  // Turn 1's KV is computed for 64 + 31 = 95 tokens (the last sampled token is never fed back), so its full blocks
  // are ⌊95/16⌋ = 5 (tokens 0–79): with the answer's ids, turn 2 hits 5 blocks = 80 tokens; without them only the
  // prompt's 4 blocks = 64 tokens (the answer's blocks hash as unique to turn 1).
  const turn1: TraceRequest = { arrival: 0, promptTokens: 64, outputTokens: 32, hashIds: [0, 1, 2, 3, 4, 5], hashBlockTokens: 16, sessionId: "c" };
  const turn2: TraceRequest = { arrival: 5, promptTokens: 128, outputTokens: 8, hashIds: [0, 1, 2, 3, 4, 5, 6, 7], hashBlockTokens: 16, sessionId: "c" };

  it("with hashIdsCoverOutput: 80 tokens (5 blocks: the prompt's 4 and the answer's first)", () => {
    expect(cachedTokensOfAdmissions([{ ...turn1, hashIdsCoverOutput: true }, turn2])).toEqual([0, 80]);
  });

  it("without it: the ids past turn 1's prompt are ignored, 64 tokens (the prompt's 4 blocks)", () => {
    expect(cachedTokensOfAdmissions([turn1, turn2])).toEqual([0, 64]);
  });

  it("a synthetic 3-turn session: each later turn hits all of the previous turn's computed full blocks", () => {
    // No system prompt; turn prompts 100, 100+20+100 = 220, 220+20+100 = 340; answers 20. Each turn's computed KV
    // is prompt + 19 tokens: 119 → ⌊119/16⌋ = 7 blocks = 112 tokens; 239 → 14 blocks = 224 tokens.
    const trace = synthesize({
      numRequests: 3, requestRate: 1, turns: 3, turnGapSeconds: 5, seed: 1,
      promptLen: { kind: "fixed", value: 100 }, outputLen: { kind: "fixed", value: 20 },
    });
    expect(trace.map((r) => r.promptTokens)).toEqual([100, 220, 340]);
    expect(cachedTokensOfAdmissions(trace)).toEqual([0, 112, 224]);
  });
});

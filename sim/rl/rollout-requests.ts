import { DEFAULT_HASH_BLOCK_TOKENS, type TraceRequest } from "../traces/types.ts";

/**
 * The rollout batch as serving requests: every prompt's G completions arrive together at t = 0 (the trainer hands
 * the whole batch to `LLM.generate`), each generating exactly `responseLen` tokens (the worst case a
 * `max_tokens = responseLen` rollout reaches, as `ignore_eos` benchmarks do) unless per-completion lengths are given.
 *
 * The G completions of one prompt carry equal `hashIds` covering the whole prompt, so the engine's prefix cache
 * shares the prompt's full blocks between them as vLLM does when it fans a `SamplingParams(n=G)` request out into
 * G children with one prompt. Different prompts get disjoint ids: prompt i owns ids [i·c, (i+1)·c) with c chunks.
 *
 * Data-parallel replicas each take whole prompt groups, round-robin (prompt i → replica i mod R), so a group never
 * straddles two engines; `replica` picks one replica's share.
 */
export interface RolloutBatchShape {
  numPrompts: number;
  numGenerations: number;
  promptLen: number;
  responseLen: number;
  numReplicas: number;
  replica: number;
  hashBlockTokens?: number;
  /**
   * Tokens each completion generates, indexed prompt × G + completion (from `--response-len-dist`, capped at
   * `responseLen`, vLLM's max_tokens); absent → every completion runs to `responseLen`.
   */
  outputTokens?: readonly number[];
}

export function promptsOfReplica(numPrompts: number, numReplicas: number, replica: number): number[] {
  const out: number[] = [];
  for (let i = replica; i < numPrompts; i += numReplicas) out.push(i);
  return out;
}

export function rolloutRequests(shape: RolloutBatchShape): TraceRequest[] {
  const hbt = shape.hashBlockTokens ?? DEFAULT_HASH_BLOCK_TOKENS;
  const chunks = Math.ceil(shape.promptLen / hbt);
  const reqs: TraceRequest[] = [];
  for (const p of promptsOfReplica(shape.numPrompts, shape.numReplicas, shape.replica)) {
    const hashIds = Array.from({ length: chunks }, (_, c) => p * chunks + c);
    for (let g = 0; g < shape.numGenerations; g++)
      reqs.push({
        arrival: 0,
        promptTokens: shape.promptLen,
        outputTokens: shape.outputTokens ? shape.outputTokens[p * shape.numGenerations + g] : shape.responseLen,
        hashIds,
        hashBlockTokens: hbt,
        source: `prompt ${p} completion ${g}`,
      });
  }
  return reqs;
}

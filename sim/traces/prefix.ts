import { DEFAULT_HASH_BLOCK_TOKENS, type TraceRequest } from "./types.ts";

/**
 * How much prompt two requests share according to their hash ids (the Mooncake convention in TraceRequest:
 * token j is identified by (hashIds[⌊j/H⌋], j mod H)). Sharing runs exactly as far as the leading ids agree, capped
 * by both prompt lengths (the last id may cover a partial chunk). 0 without ids or with different chunk sizes.
 */
export function sharedPrefixTokens(a: TraceRequest, b: TraceRequest): number {
  if (!a.hashIds || !b.hashIds) return 0;
  const h = a.hashBlockTokens ?? DEFAULT_HASH_BLOCK_TOKENS;
  if ((b.hashBlockTokens ?? DEFAULT_HASH_BLOCK_TOKENS) !== h) return 0;
  let k = 0;
  const n = Math.min(a.hashIds.length, b.hashIds.length);
  while (k < n && a.hashIds[k] === b.hashIds[k]) k++;
  return Math.min(k * h, a.promptTokens, b.promptTokens);
}

/**
 * Blocks of `b`'s prompt a prefix cache already holding all of `a` would serve, with the simulator's `blockSize`:
 * only full blocks are cached, and the hit never covers b's last prompt token (vLLM V1 get_computed_blocks caps the
 * hit at num_tokens − 1 so the last token is recomputed to produce logits).
 */
export function cachedPrefixBlocks(a: TraceRequest, b: TraceRequest, blockSize: number): number {
  return Math.floor(Math.min(sharedPrefixTokens(a, b), b.promptTokens - 1) / blockSize);
}

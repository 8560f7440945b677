/**
 * Random traces for the engine's property tests: arrivals with random gaps, random lengths, and shared prefixes
 * written as Mooncake-style hash ids over 16-token chunks drawn from a small alphabet, chained so that equal leading
 * ids mean equal prefixes (as in real traces) and requests share prefixes often.
 */
import fc from "fast-check";
import type { TraceRequest } from "../../sim/traces/types.ts";

export interface TraceArbOptions {
  maxGap: number;
  maxPromptTokens: number;
  maxOutputTokens: number;
  /** Prefix ids are drawn from 0 … alphabet − 1. */
  alphabet: number;
  maxPrefixChunks: number;
  /** Priorities 0 … maxPriority (none when absent). */
  maxPriority?: number;
}

export function traceArb(o: TraceArbOptions): fc.Arbitrary<TraceRequest[]> {
  return fc
    .array(
      fc.record({
        gap: fc.double({ min: 0, max: o.maxGap, noNaN: true }),
        promptTokens: fc.integer({ min: 1, max: o.maxPromptTokens }),
        outputTokens: fc.integer({ min: 1, max: o.maxOutputTokens }),
        prefix: fc.array(fc.integer({ min: 0, max: o.alphabet - 1 }), { maxLength: o.maxPrefixChunks }),
        priority: fc.integer({ min: 0, max: o.maxPriority ?? 0 }),
      }),
      { minLength: 1, maxLength: 30 },
    )
    .map((rows) => {
      let t = 0;
      return rows.map((r): TraceRequest => {
        t += r.gap;
        const hashIds = r.prefix
          .slice(0, Math.ceil(r.promptTokens / 16))
          .map((v, i, a) => a.slice(0, i + 1).reduce((h, x) => h * 5 + x + 1, 0));
        const req: TraceRequest = { arrival: t, promptTokens: r.promptTokens, outputTokens: r.outputTokens, hashIds, hashBlockTokens: 16 };
        if (o.maxPriority !== undefined) req.priority = r.priority;
        return req;
      });
    });
}

import type { TraceFormat } from "./formats.ts";

/**
 * How a trace is read and shaped. Shaping is applied in this order: parse → drop failed rows (BurstGPT) →
 * `filterModel` → backwards-timestamp check → `timeWindow` (arrivals re-based to its START) → `rateScale` →
 * `maxRequests`. `maxModelLen` only counts; it never removes a request (the engine rejects them, as vLLM does).
 */
export interface TraceOptions {
  /** Skip auto-detection. */
  format?: TraceFormat;
  /** Used in every file:line message and as a detection hint (.json). */
  fileName?: string;
  /** Fail on the first bad line instead of skipping it with a counted issue. */
  strict?: boolean;
  /** Keep only rows whose model column equals this (case-insensitive). Formats without a model column reject it. */
  filterModel?: string;
  /** [START, END) in seconds from the trace's first request; kept arrivals become arrival − START. */
  timeWindow?: [number, number];
  /** Stop after this many requests. */
  maxRequests?: number;
  /** Arrivals are divided by this: 2 = the same requests twice as fast. */
  rateScale?: number;
  /** Requests with promptTokens + outputTokens above this are counted as ones vLLM would reject. */
  maxModelLen?: number;
  /** Seed for synthetic arrivals (formats without timestamps). */
  seed?: number;
  /**
   * Requests per second for formats without timestamps (ShareGPT, vLLM request lists, Vidur length-only files).
   * Default Infinity: every request at t = 0, as `vllm bench serve` does by default.
   */
  requestRate?: number;
  /** Gamma shape of the synthetic inter-arrival gaps (1 = Poisson), as `vllm bench serve --burstiness`. */
  burstiness?: number;
}

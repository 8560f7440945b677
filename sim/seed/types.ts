/**
 * One figure of the source article (`vramscope seed`), set beside what the product computes from the same inputs
 * and, where it matters, from the real model (GQA-aware, corrected).
 */
export interface SeedRow {
  /** "inference" | "training" | "parallelism" | "rl". */
  section: string;
  /** What is being computed, e.g. "LLaMA-7B KV cache, one 4K sequence". */
  item: string;
  /** The article's figure as printed, e.g. "4.2 GB". */
  articleText: string;
  /** The article's figure as a number in `unit`, or null when it gives none. */
  articleValue: number | null;
  /** Recomputed from the article's own formula and inputs, in `unit`. */
  recomputed: number;
  /** The figure for a real model with the product's own accounting (GQA-aware etc.), or null. */
  realModelValue: number | null;
  /** Which real model `realModelValue` is for. */
  realModel?: string;
  unit: "GB" | "GiB" | "B" | "x" | "%";
  /** True when the article's figure differs from the recomputation by more than rounding (0.5% or its last digit). */
  differs: boolean;
  /** Why they differ (or what the real model adds). */
  note: string;
}

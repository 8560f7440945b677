import type { ParamValue } from "./params.ts";
import type { Shard } from "./shard.ts";
import type { VaryParam } from "./spec.ts";

/** Service-level objectives a point must meet, seconds. Absent = unconstrained. */
export interface Slo {
  ttftP99?: number;
  tpotP99?: number;
}

/** What one sweep point measured. Seconds, tokens, bytes; `null` where undefined (no completed requests, no price). */
export interface PointMetrics {
  requests: number;
  completed: number;
  rejected: number;
  simulatedSeconds: number;
  throughput: { requestsPerS: number; inputTokensPerS: number; outputTokensPerS: number };
  /**
   * Requests per second that met every per-request SLO (TTFT ≤ SLO and TPOT ≤ SLO), over the run's duration:
   * the definition of vLLM's `benchmark_serving --goodput` (DistServe's goodput). Equals completed requests/s
   * when no SLO is set.
   */
  goodput: { requestsPerS: number; fraction: number };
  ttft: { p50: number; p99: number };
  tpot: { p50: number; p99: number };
  preemptions: number;
  recomputedTokens: number;
  /** recomputed / (prompt + output + recomputed tokens of completed requests): the share of work thrown away. */
  recomputedTokenShare: number;
  peakKvUsage: number;
  numGpuBlocks: number;
  kvCacheTokens: number;
  /** GPUs one replica uses (= tensor-parallel size). */
  numGpus: number;
  /** GPU memory the point reserves across its GPUs: gpu_memory_utilization × total × GPUs (or the KV override's sum). */
  memoryBudgetBytes: number;
  /** Per GPU: the startup budget's KV bytes. */
  kvCacheBytes: number;
  /** USD/hour of the point's GPUs, when a price was given for its GPU. */
  costPerHour: number | null;
  /** USD per million output tokens at the simulated throughput, when a price was given. */
  costPerMillionOutputTokens: number | null;
}

/** One SLO (or other constraint) a point violates, and by how much. */
export interface Violation {
  constraint: "ttft-p99" | "tpot-p99";
  limit: number;
  value: number;
  /** value / limit − 1 (0.6 = 60 % over). */
  excess: number;
}

export interface PointResult {
  /** Index in the full cartesian product (stable across shards). */
  index: number;
  params: Record<string, ParamValue>;
  /** False when the configuration cannot start (no KV room, TP not dividing heads, …): `reason` says why. */
  feasible: boolean;
  reason?: string;
  metrics?: PointMetrics;
  meetsSlo?: boolean;
  violations?: Violation[];
}

/** The knee of a preemption-vs-memory curve (Kneedle on the normalised curve). */
export interface Knee {
  /** The memory parameter on the x-axis (e.g. "gpu-memory-utilization"). */
  param: string;
  /** The other parameters this curve holds fixed. */
  fixed: Record<string, ParamValue>;
  /** Curve points, ascending memory: [param value, preemptions]. */
  curve: [number, number][];
  /** Where it bends, or null when the curve is flat (no preemptions, or equally many everywhere). */
  knee: { value: number; preemptions: number; index: number } | null;
  /** The smallest value from which every larger one has no preemptions, or null when the largest still preempts. */
  preemptionFreeFrom: number | null;
}

export interface Recommendation {
  /** The chosen point, or null when none qualifies. */
  point: PointResult | null;
  /** One sentence a user can quote. */
  reason: string;
  /** How the choice was ranked ("cost per M output tokens, then memory budget, …"). */
  rankedBy: string[];
  /** How many feasible points met every SLO. */
  qualifying: number;
  /** When none qualifies: per constraint, the best any feasible point reached. */
  failing?: { constraint: Violation["constraint"]; limit: number; best: number; excess: number; bestIndex: number }[];
  /** When none qualifies: the point nearest to qualifying (smallest worst excess) and what it misses by. */
  nearest?: PointResult;
  /** The preemption knee on the chosen (or nearest) point's memory curve. */
  knee: Knee | null;
}

/** Everything a sweep was asked to do, minus the trace's contents: enough to run, shard and merge it. */
export interface SweepSpec {
  /** Serving flags common to every point (config input: `model`/`gpu` as names). */
  base: Record<string, unknown>;
  vary: VaryParam[];
  slo: Slo;
  /** USD per GPU-hour by GPU preset name. */
  prices: Record<string, number>;
  /** Trace label (path or name) for the report. */
  trace?: string;
}

/** `vramscope sweep --json` and `sweep merge`'s output. */
export interface SweepResult {
  version: 1;
  spec: SweepSpec;
  totalPoints: number;
  /** The shard this result covers, or null for a whole sweep (and a merge). */
  shard: Shard | null;
  points: PointResult[];
  recommendation: Recommendation;
  knees: Knee[];
}

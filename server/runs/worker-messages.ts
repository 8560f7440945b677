/**
 * Messages between a run's main-thread host and its worker thread. Every request carries an `id` and gets exactly
 * one `batch` reply with that id (or the worker dies, which fails the run), so the host never has more than one
 * request in flight and the worker never queues work the viewer no longer wants.
 */
import type { EngineEvent, MemorySnapshot, ReplaySummary } from "../../sim/serving/types.ts";
import type { FrameCounts } from "../protocol.ts";

export type HostRequest =
  | { op: "init"; id: number; kind: string; simModule: string; input: unknown; blocks: boolean; checkpointEveryMs: number }
  /** Run until simulated time `toT` or until `budgetMs` of wall time is spent, whichever first. */
  | { op: "advance"; id: number; toT: number; budgetMs: number }
  | { op: "step"; id: number; n: number; budgetMs: number }
  /** Re-simulate to `t` (backward: silently from the latest checkpoint before it, or the start; forward: streamed). */
  | { op: "seek"; id: number; t: number; budgetMs: number }
  /**
   * Change per-block detail: in place where the kind can (Simulation.setBlocks; the reply carries the block map),
   * else by re-simulating silently to the current time with it.
   */
  | { op: "detail"; id: number; blocks: boolean }
  | { op: "blocks"; id: number }
  /** One-off export worker: re-simulate from the input to `untilT` with a recorder and format the result. */
  | { op: "export"; id: number; simModule: string; input: unknown; untilT: number; format: ExportFormat; table: "requests" | "memory"; runId: string };

export type ExportFormat = "json" | "csv" | "perfetto" | "prometheus";

export interface ExportReply {
  op: "export";
  id: number;
  body: string;
  contentType: string;
  extension: string;
}

/** Per-batch metric deltas for /metrics (counters as increments, histograms as raw observations). */
export interface MetricsDelta {
  preemptions: number;
  prefixQueries: number;
  prefixHits: number;
  promptTokens: number;
  generationTokens: number;
  requestSuccess: number;
  ttft: number[];
  e2e: number[];
  queueTime: number[];
  iterationTokens: number[];
}

export interface WorkerBatch {
  op: "batch";
  id: number;
  t0: number;
  t1: number;
  snapshots: MemorySnapshot[];
  droppedSamples: number;
  events: EngineEvent[];
  counts: FrameCounts;
  extra?: unknown[];
  metrics: MetricsDelta;
  /** Latest memory, for the gauges. */
  last: MemorySnapshot | null;
  finished: boolean;
  result?: { summary?: ReplaySummary; result?: unknown };
  /** The engine's report so far (Simulation.liveSummary), when due. */
  live?: ReplaySummary;
  /** Simulated time of `live` (the batch's t1). */
  liveT?: number;
  /** Set when the batch follows a backward seek: the timeline restarted at this time and metrics were reset. */
  rewoundTo?: number;
  /** With `rewoundTo`: where the re-simulation started (a checkpoint's time, or 0). */
  resumedFrom?: number;
  blocks?: { t: number; state: number[]; owner: number[]; tables?: number[][]; cachedInUse?: number[] };
}

export type WorkerReply = WorkerBatch | ExportReply | { op: "fatal"; id: number; message: string };

export function emptyCounts(): FrameCounts {
  return { steps: 0, arrivals: 0, admitted: 0, finished: 0, rejected: 0, preemptions: 0, evictedBlocks: 0 };
}

export function emptyMetrics(): MetricsDelta {
  return {
    preemptions: 0,
    prefixQueries: 0,
    prefixHits: 0,
    promptTokens: 0,
    generationTokens: 0,
    requestSuccess: 0,
    ttft: [],
    e2e: [],
    queueTime: [],
    iterationTokens: [],
  };
}

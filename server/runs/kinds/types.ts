/**
 * A run kind is one small module pair: a main-thread half (validates and resolves the POSTed config, computes the
 * facts for `hello`) and a worker half (`simModule`, loaded inside the worker thread with `import()`), so adding
 * training, RL or sweeps as live runs means adding files here, not editing the server.
 *
 * Why two halves: config errors must reach the user as a 400 naming the field before any worker starts, while the
 * simulation itself must run off the event loop. `workerInput` crosses the thread boundary by structured clone, so
 * it holds plain data only (resolved config, parsed trace), never functions.
 */
import type { TSchema } from "@sinclair/typebox";
import type { EngineEvent, KvBudget, MemorySnapshot, ReplaySummary } from "../../../sim/serving/types.ts";
import type { RunFacts } from "../../protocol.ts";
import type { AnyRecording } from "../../../sim/export/recording.ts";
import type { TraceStore } from "../../traces/store.ts";
import type { CacheConfigInfo } from "../../metrics/registry.ts";

export interface KindContext {
  traces: TraceStore;
}

export interface PreparedRun {
  /** The resolved config, sent in `hello` and `GET /api/runs/:id`. */
  config: unknown;
  facts: RunFacts;
  budget: KvBudget | null;
  /** `model_name` label of the run's metrics. */
  modelName: string;
  workerInput: unknown;
  /** For `vllm:cache_config_info` (kinds with a paged KV cache). */
  cacheInfo?: CacheConfigInfo;
}

export interface RunKind {
  name: string;
  description: string;
  /** Schema of the `config` object of `POST /api/runs` for this kind (every field optional: defaults fill in). */
  configSchema: TSchema;
  /** False when the sim module has no `createRecording` (GET …/export answers 400). Default true. */
  exportable?: boolean;
  /** V8 heap limit of this kind's workers, MiB (default: the server's `workerMemoryMb`). */
  workerMemoryMb?: number;
  /** The worker half: a module exporting `createSimulation` ({@link SimulationFactory}). */
  simModule: URL;
  /** Validates and resolves; throws UserError (with `field`) on bad input. */
  prepare(config: Record<string, unknown>, ctx: KindContext): Promise<PreparedRun> | PreparedRun;
}

/** What the worker drives: one engine, stepped a slice at a time. Deterministic for its input. */
export interface Simulation {
  /** Simulated seconds. */
  readonly now: number;
  readonly finished: boolean;
  /** One engine step; false when finished (or nothing left to do). */
  step(): boolean;
  /**
   * When the next step would start: `now` while work is queued, else the next arrival (Infinity when none). Lets
   * the driver stop exactly at a target time instead of jumping over it with an idle step.
   */
  nextEventTime?(): number;
  /** Advances an idle simulation's clock to `t` (≤ nextEventTime()) without doing anything else. */
  idleTo?(t: number): void;
  /** The serving report over what has finished so far (replay kinds), for live metrics. */
  liveSummary?(): ReplaySummary;
  /** Memory now, or null for kinds without a memory model. */
  snapshot(): MemorySnapshot | null;
  /** The final report. */
  result(): { summary?: ReplaySummary; result?: unknown };
  /** Per-block state, for kinds with a paged KV cache. */
  blockStates?(): { state: Uint8Array; owner: Int32Array; tables?: number[][]; cachedInUse?: number[] };
  /**
   * The engine's own cumulative counters, when it keeps them: /metrics then reports exactly what the engine's
   * summary reports (vLLM counts prefix-cache queries as request.num_tokens at each lookup, which the event stream
   * alone cannot reproduce after a preemption).
   */
  counters?(): { prefixQueries: number; prefixHits: number; preemptions: number };
  /** Kind-specific points produced since the last call (frame `extra`). */
  drainExtra?(): unknown[];
  /**
   * An independent copy of the state now (kinds that can: replay) and an estimate of its size, kept by the worker as
   * a checkpoint so a backward seek resumes from the nearest earlier one instead of re-simulating from the start.
   * `restore` resumes from a copy's `state` (and may be called again with the same one later).
   */
  checkpoint?(): { state: unknown; bytes: number };
  restore?(checkpoint: unknown): void;
  /**
   * Turns per-block events on or off in place (kinds that can: replay); without it, turning them on rebuilds the
   * simulation with them and re-simulates silently to now.
   */
  setBlocks?(on: boolean): void;
}

export interface SimulationOptions {
  /** Emit per-block events (costly on big pools; only when a viewer subscribed to `blocks`). */
  blocks: boolean;
  onEvent: (e: EngineEvent) => void;
}

/**
 * Optional export of a kind's sim module: re-simulate from `input` up to simulated time `untilT` (Infinity = to the
 * end) and return a Recording for the writers in `sim/export/`.
 */
export type RecordingFactory = (input: unknown, untilT: number) => AnyRecording | Promise<AnyRecording>;

export type SimulationFactory = (input: unknown, opts: SimulationOptions) => Simulation | Promise<Simulation>;

/** The model/GPU part of a run's `hello` facts, shared by every kind. */
export function modelFacts(
  model: { name: string; numLayers: number; numKvHeads: number; headDim: number },
  gpu: { name: string; memoryBytes: number; hbmBandwidth: number },
  tensorParallelSize: number,
): Omit<RunFacts, "trace"> {
  return {
    modelName: model.name,
    gpuName: gpu.name,
    gpuMemoryBytes: gpu.memoryBytes,
    tensorParallelSize,
    numLayers: model.numLayers,
    numKvHeads: model.numKvHeads,
    headDim: model.headDim,
    hbmBandwidth: gpu.hbmBandwidth,
  };
}

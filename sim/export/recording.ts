import type { EngineEvent, KvBudget, MemorySnapshot, ReplaySummary, RequestRecord, ServingConfig } from "../serving/types.ts";

/**
 * Everything one serving run produced that an exporter may need, captured once so every format (Perfetto, CSV,
 * Prometheus, JSON) is a pure function of it. Memory events are kept apart as `snapshots` because every consumer
 * treats them as a time series, not as discrete events.
 *
 * Invariants: `events` and `snapshots` are in emission order (non-decreasing `t`); `records[i].id === i` for a
 * recording made by `createRecorder`/`recordRun`.
 */
export interface Recording {
  kind: "serving";
  /** Shown as the trace's process name and in file headers. */
  label: string;
  config: ServingConfig;
  budget: KvBudget;
  events: EngineEvent[];
  snapshots: MemorySnapshot[];
  records: RequestRecord[];
  summary: ReplaySummary;
}

/**
 * A training or RL memory timeline: one sample per event of the step/iteration, each with bytes per memory
 * component on one device. `t` is seconds when `timeUnit` is "s", or the event's ordinal when it is "event"
 * (the training and RL timelines order events without timing them; exports then draw one event per millisecond).
 */
export interface TimelineRecording {
  kind: "timeline";
  label: string;
  timeUnit: "s" | "event";
  samples: TimelineSample[];
  /** Free-form figures for the JSON summary (peak, fits/OOM, …). */
  summary?: Record<string, unknown>;
}

export interface TimelineSample {
  t: number;
  /** What happened at this point ("forward layer 3", "generate"). */
  label: string;
  /** Coarser grouping drawn as slices ("forward", "backward", "generate", …). */
  phase?: string;
  /** Device group or role, when the timeline has several (RL separate placement). */
  track?: string;
  /** Bytes per component after the event. */
  components: Record<string, number>;
}

export type AnyRecording = Recording | TimelineRecording;

/** Which events a recorder keeps. Block-level events are many; exports do not use them, so they are dropped by default. */
export interface RecorderOptions {
  keepBlockEvents?: boolean;
}

const BLOCK_EVENTS = new Set(["blocks_allocated", "blocks_touched", "blocks_freed", "blocks_cached", "blocks_evicted"]);

/**
 * An `onEvent` sink for a ServingEngine plus a `finish` that assembles the Recording once the run is over.
 * Kept engine-agnostic (it only needs the engine's finishing accessors) so the server's worker, the CLI and the
 * tests share it.
 */
export function createRecorder(opts: RecorderOptions = {}) {
  const events: EngineEvent[] = [];
  const snapshots: MemorySnapshot[] = [];
  return {
    events,
    snapshots,
    onEvent(e: EngineEvent): void {
      if (e.type === "memory") snapshots.push(e.snapshot);
      else if (opts.keepBlockEvents || !BLOCK_EVENTS.has(e.type)) events.push(e);
    },
    finish(parts: { label: string; config: ServingConfig; budget: KvBudget; records: RequestRecord[]; summary: ReplaySummary }): Recording {
      return { kind: "serving", events, snapshots, ...parts };
    },
  };
}

import { ServingEngine } from "../serving/engine.ts";
import type { ServingConfig } from "../serving/types.ts";
import type { TraceRequest } from "../traces/types.ts";
import { createRecorder, type Recording, type RecorderOptions } from "./recording.ts";

/**
 * Runs a trace on a fresh engine subscribed to a recorder and returns both. For callers that build their own
 * engine (streaming a trace file in batches), `createRecorder()` + `engineRecorder` do the same in two halves.
 */
export function recordRun(
  config: ServingConfig,
  requests: Iterable<TraceRequest>,
  opts: RecorderOptions & { label?: string } = {},
): { engine: ServingEngine; recording: Recording } {
  const rec = createRecorder(opts);
  const engine = new ServingEngine(config, { onEvent: rec.onEvent });
  engine.addRequests(requests);
  engine.endTrace();
  engine.runToEnd();
  return { engine, recording: finishRecording(rec, engine, opts.label) };
}

/** Assembles the Recording from a recorder whose `onEvent` was given to `engine`, once the engine has run. */
export function finishRecording(rec: ReturnType<typeof createRecorder>, engine: ServingEngine, label?: string): Recording {
  const c = engine.config;
  return rec.finish({
    label: label ?? `${c.model.name} on ${c.tensorParallelSize > 1 ? `${c.tensorParallelSize}× ` : ""}${c.gpu.name}`,
    config: c,
    budget: engine.budget,
    records: engine.requestRecords(),
    summary: engine.summary(),
  });
}

/**
 * Worker half of the `replay` kind: one ServingEngine fed the whole trace up front (arrivals are simulated times,
 * so the engine admits each request when its clock reaches it). Loaded in the worker with `import()`.
 */
import { ServingEngine } from "../../../sim/serving/engine.ts";
import { createRecorder, type Recording } from "../../../sim/export/recording.ts";
import { finishRecording } from "../../../sim/export/record-run.ts";
import type { ReplayWorkerInput } from "./replay.ts";
import type { Simulation, SimulationOptions } from "./types.ts";

export function createSimulation(input: unknown, opts: SimulationOptions): Simulation {
  const { config, requests } = input as ReplayWorkerInput;
  const engine = new ServingEngine(config, { onEvent: opts.onEvent, detail: { blocks: opts.blocks } });
  engine.addRequests(requests);
  engine.endTrace();
  return {
    get now() {
      return engine.now;
    },
    get finished() {
      return engine.finished;
    },
    step: () => engine.step(),
    snapshot: () => engine.snapshot(),
    result: () => ({ summary: engine.summary() }),
    blockStates: () => engine.blockStates(),
  };
}

/** Re-simulates to `untilT` with a recorder (deterministic, so it matches what the live run showed). */
export function createRecording(input: unknown, untilT: number): Recording {
  const { config, requests } = input as ReplayWorkerInput;
  const rec = createRecorder();
  const engine = new ServingEngine(config, { onEvent: rec.onEvent });
  engine.addRequests(requests);
  engine.endTrace();
  engine.runUntil(untilT);
  return finishRecording(rec, engine);
}

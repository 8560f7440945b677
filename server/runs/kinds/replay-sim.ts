/**
 * Worker half of the `replay` kind: one ServingEngine fed the whole trace up front (arrivals are simulated times,
 * so the engine admits each request when its clock reaches it). Loaded in the worker with `import()`.
 */
import { ServingEngine } from "../../../sim/serving/engine.ts";
import { createRecorder, type Recording } from "../../../sim/export/recording.ts";
import { finishRecording } from "../../../sim/export/record-run.ts";
import type { EngineEvent } from "../../../sim/serving/types.ts";
import type { ReplayWorkerInput } from "./replay.ts";
import type { Simulation, SimulationOptions } from "./types.ts";

export function createSimulation(input: unknown, opts: SimulationOptions): Simulation {
  const { config, requests } = input as ReplayWorkerInput;
  // Arrivals the engine has taken in (it emits one `arrival` per trace entry, in order, when its clock reaches it).
  let admitted = 0;
  const onEvent = (e: EngineEvent) => {
    if (e.type === "arrival") admitted++;
    opts.onEvent(e);
  };
  // No request records: the live run reports summaries; exports re-simulate with their own recorder.
  let blocksOn = opts.blocks;
  let engine = new ServingEngine(config, { onEvent, detail: { blocks: blocksOn, requests: true }, keepRecords: false });
  engine.addRequests(requests);
  engine.endTrace();
  // The next trace entry the engine has not taken in yet; arrivals are sorted (parsers guarantee it, the engine
  // checks it). One at or before `now` is pending work: the next step starts now.
  const nextArrival = (): number => (admitted < requests.length ? requests[admitted].arrival : Number.POSITIVE_INFINITY);
  const idle = () => engine.scheduler.running.length === 0 && engine.scheduler.waiting.length === 0;
  return {
    get now() {
      return engine.now;
    },
    nextEventTime: () => (idle() ? Math.max(engine.now, nextArrival()) : engine.now),
    idleTo(t: number) {
      // Only forward, and only across a gap with nothing to do: the clock the engine's own idle jump would set,
      // stopped earlier (INV-2 holds: the clock never goes back; no arrival is skipped since t < next arrival).
      if (idle() && t > engine.now && t < nextArrival()) engine.now = t;
    },
    get finished() {
      return engine.finished;
    },
    step: () => engine.step(),
    snapshot: () => engine.snapshot(),
    result: () => ({ summary: engine.summary() }),
    liveSummary: () => engine.summary(),
    counters: () => ({
      prefixQueries: engine.kvCacheManager.stats.queries,
      prefixHits: engine.kvCacheManager.stats.hits,
      preemptions: engine.scheduler.numPreemptions,
    }),
    blockStates: () => ({ ...engine.blockStates(), tables: engine.blockTables(), cachedInUse: engine.cachedInUseBlocks() }),
    checkpoint() {
      const size = { bytes: 0 };
      const state: ReplayCheckpoint = { engine: engine.clone(undefined, size), admitted };
      return { state, bytes: size.bytes };
    },
    restore(cp: unknown) {
      const c = cp as ReplayCheckpoint;
      // Copy again (the checkpoint stays reusable), and send events to this simulation's callback: the checkpoint may
      // come from before a rebuild, whose callback fed a collector that is gone.
      engine = c.engine.clone(onEvent);
      engine.setBlockDetail(blocksOn); // the copy has the detail of when it was taken
      admitted = c.admitted;
    },
    setBlocks(on: boolean) {
      blocksOn = on;
      engine.setBlockDetail(on);
    },
  };
}

interface ReplayCheckpoint {
  engine: ServingEngine;
  admitted: number;
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

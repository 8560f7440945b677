/**
 * Feeding a real engine's events to the Serve view's ServeStore without a server (client-state tests): the `hello`
 * the server would send for the engine's run, and a `frame` carrying a batch of events with the counts the server
 * computes for it.
 */
import { ServingEngine } from "../../sim/serving/engine.ts";
import type { EngineEvent, ServingConfig } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import type { FrameMessage, HelloMessage } from "../../server/protocol.ts";

export function helloFor(runId: string, engine: ServingEngine, config: ServingConfig): HelloMessage {
  return {
    type: "hello", protocolVersion: 1, runId, kind: "replay", config: {}, state: "running", speed: 1, t: 0,
    detail: ["blocks", "requests", "steps", "memory"], maxFrameRate: 30, budget: engine.budget,
    facts: { modelName: config.model.name, gpuName: config.gpu.name, gpuMemoryBytes: config.gpu.memoryBytes, tensorParallelSize: 1 },
  };
}

export function frameOf(seq: number, events: EngineEvent[], t0: number, t1: number): FrameMessage {
  const count = (type: string) => events.filter((e) => e.type === type).length;
  return {
    type: "frame", seq, t0, t1, snapshots: [], droppedSamples: 0, events,
    counts: {
      steps: count("step"), arrivals: count("arrival"), admitted: count("admitted"), finished: count("finished"),
      rejected: count("rejected"), preemptions: count("preempted"),
      evictedBlocks: events.reduce((s, e) => s + (e.type === "blocks_evicted" ? e.blockIds.length : 0), 0),
    },
  };
}

/** An engine over the whole `trace` that hands every event to `onEvent`, per-block events included unless `blocks` is false. */
export function replayEngine(config: ServingConfig, trace: TraceRequest[], onEvent: (e: EngineEvent) => void, blocks = true): ServingEngine {
  const engine = new ServingEngine(config, { onEvent, detail: { blocks } });
  engine.addRequests(trace);
  engine.endTrace();
  return engine;
}

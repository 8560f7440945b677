/** Worker half of the `rl` kind: simulates the iteration once, then plays its timeline one event per step. */
import { rlRecording } from "../../../sim/export/timelines.ts";
import type { TimelineRecording } from "../../../sim/export/recording.ts";
import { simulateRl } from "../../../sim/rl/index.ts";
import type { RlConfig } from "../../../sim/rl/types.ts";
import { playback, playedUntil } from "./playback.ts";
import type { Simulation } from "./types.ts";

export function createSimulation(input: unknown): Simulation {
  const report = simulateRl(input as RlConfig);
  const events = report.timeline;
  return playback(events.length, (i) => events[i], () => {
    const { timeline: _timeline, ...rest } = report;
    return rest;
  });
}

export function createRecording(input: unknown, untilT: number): TimelineRecording {
  return playedUntil(rlRecording(simulateRl(input as RlConfig).timeline), untilT);
}

/** Worker half of the `rl` kind: simulates the iteration once, then plays its timeline one event per step. */
import { rlRecording } from "../../../sim/export/timelines.ts";
import type { TimelineRecording } from "../../../sim/export/recording.ts";
import { simulateRl } from "../../../sim/rl/index.ts";
import type { RlConfig } from "../../../sim/rl/types.ts";
import type { Simulation } from "./types.ts";

export function createSimulation(input: unknown): Simulation {
  const report = simulateRl(input as RlConfig);
  const events = report.timeline;
  let next = 0;
  let out: unknown[] = [];
  return {
    get now() {
      return next;
    },
    get finished() {
      return next >= events.length;
    },
    step() {
      if (next >= events.length) return false;
      out.push(events[next]);
      next++;
      return true;
    },
    snapshot: () => null,
    drainExtra() {
      const x = out;
      out = [];
      return x;
    },
    result() {
      const { timeline: _timeline, ...rest } = report;
      return { result: rest };
    },
  };
}

export function createRecording(input: unknown, untilT: number): TimelineRecording {
  const rec = rlRecording(simulateRl(input as RlConfig).timeline);
  return { ...rec, samples: rec.samples.filter((s) => s.t < untilT) };
}

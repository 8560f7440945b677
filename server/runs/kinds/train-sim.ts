/** Worker half of the `train` kind: plays the training timeline one event per step. */
import { trainingRecording } from "../../../sim/export/timelines.ts";
import type { TimelineRecording } from "../../../sim/export/recording.ts";
import { computeTrainingMemory } from "../../../sim/training/accounting.ts";
import { trainingTimeline } from "../../../sim/training/timeline.ts";
import type { TrainWorkerInput } from "./train.ts";
import type { Simulation } from "./types.ts";

export function createSimulation(input: unknown): Simulation {
  const { config, stage } = input as TrainWorkerInput;
  const tl = trainingTimeline(config, { stage });
  let next = 0;
  let out: unknown[] = [];
  return {
    get now() {
      return next;
    },
    get finished() {
      return next >= tl.events.length;
    },
    step() {
      if (next >= tl.events.length) return false;
      out.push(tl.events[next]);
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
      const report = computeTrainingMemory(config);
      return {
        result: {
          stage: tl.stage,
          events: tl.events.length,
          peakBytes: tl.peakBytes,
          peakIndex: tl.peakIndex,
          peakLabel: tl.events[tl.peakIndex]?.label,
          gpuMemoryBytes: report.gpuMemoryBytes,
          fits: report.fits,
          oomByBytes: report.oomByBytes,
        },
      };
    },
  };
}

export function createRecording(input: unknown, untilT: number): TimelineRecording {
  const { config, stage } = input as TrainWorkerInput;
  const rec = trainingRecording(trainingTimeline(config, { stage }));
  return { ...rec, samples: rec.samples.filter((s) => s.t < untilT) };
}

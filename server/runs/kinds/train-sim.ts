/** Worker half of the `train` kind: plays the training timeline one event per step. */
import { trainingRecording } from "../../../sim/export/timelines.ts";
import type { TimelineRecording } from "../../../sim/export/recording.ts";
import { computeTrainingMemory } from "../../../sim/training/accounting.ts";
import { trainingTimeline } from "../../../sim/training/timeline.ts";
import { playback, playedUntil } from "./playback.ts";
import type { TrainWorkerInput } from "./train.ts";
import type { Simulation } from "./types.ts";

export function createSimulation(input: unknown): Simulation {
  const { config, stage } = input as TrainWorkerInput;
  const tl = trainingTimeline(config, { stage });
  return playback(tl.events.length, (i) => tl.events[i], () => {
    const report = computeTrainingMemory(config);
    return {
      stage: tl.stage,
      events: tl.events.length,
      peakBytes: tl.peakBytes,
      peakIndex: tl.peakIndex,
      peakLabel: tl.events[tl.peakIndex]?.label,
      gpuMemoryBytes: report.gpuMemoryBytes,
      fits: report.fits,
      oomByBytes: report.oomByBytes,
    };
  });
}

export function createRecording(input: unknown, untilT: number): TimelineRecording {
  const { config, stage } = input as TrainWorkerInput;
  return playedUntil(trainingRecording(trainingTimeline(config, { stage })), untilT);
}

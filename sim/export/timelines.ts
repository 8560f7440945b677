import type { RlTimelineEvent } from "../rl/types.ts";
import type { TrainingTimeline } from "../training/types.ts";
import type { TimelineRecording } from "./recording.ts";

/**
 * Adapters from the training and RL timelines to the exporters' TimelineRecording, so `train` and `rl` export with
 * `writeExports(opts, trainingRecording(timeline))` / `writeExports(opts, rlRecording(events))`. Both timelines are
 * ordered events without durations: `timeUnit: "event"`. `total` is dropped from the components (the exporters add
 * their own total, and keeping it would count everything twice).
 */
export function trainingRecording(tl: TrainingTimeline, label = `train (stage ${tl.stage})`): TimelineRecording {
  return {
    kind: "timeline",
    label,
    timeUnit: "event",
    samples: tl.events.map((e, i) => {
      const { total: _total, ...components } = e.bytes;
      return { t: i, label: e.label, phase: e.phase, track: `stage ${e.stage}`, components: { ...components } };
    }),
    summary: { peakBytes: tl.peakBytes, peakIndex: tl.peakIndex, stage: tl.stage },
  };
}

export function rlRecording(events: readonly RlTimelineEvent[], label = "rl iteration", group?: string): TimelineRecording {
  const picked = group === undefined ? events : events.filter((e) => e.group === group);
  return {
    kind: "timeline",
    label: group === undefined ? label : `${label} (${group})`,
    timeUnit: "event",
    samples: picked.map((e, i) => ({
      t: i,
      label: e.label,
      phase: e.phase,
      track: e.group,
      components: Object.fromEntries(Object.entries(e.byComponent).filter(([, v]) => v !== undefined)) as Record<string, number>,
    })),
  };
}

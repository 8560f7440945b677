/**
 * The Simulation of a kind without a clock: `total` items (training or RL timeline events, sweep points) played
 * one per step, so simulated "time" is the item index and speed 10 shows ten items per second. Each item produced
 * goes into the next frame's `extra` (drainExtra). train, rl and sweep differ only in how an item is made (read
 * from a precomputed timeline, or a whole replay per sweep point) and in their final result.
 *
 * Invariant: `now` = items produced = index of the next item; `finished` ⇔ now ≥ total; every item is drained
 * exactly once, in order.
 */
import type { TimelineRecording } from "../../../sim/export/recording.ts";
import type { Simulation } from "./types.ts";

/**
 * @param total   how many items the run has
 * @param produce item i (called once per i, in order)
 * @param result  the summary's `result`, read when the run ends (or is exported early)
 */
export function playback(total: number, produce: (i: number) => unknown, result: () => unknown): Simulation {
  let next = 0;
  let out: unknown[] = [];
  return {
    get now() {
      return next;
    },
    get finished() {
      return next >= total;
    },
    step() {
      if (next >= total) return false;
      out.push(produce(next));
      next++;
      return true;
    },
    snapshot: () => null,
    drainExtra() {
      const x = out;
      out = [];
      return x;
    },
    result: () => ({ result: result() }),
  };
}

/** A timeline recording cut to the events played before `untilT` (an export mid-run shows what the page showed). */
export function playedUntil(rec: TimelineRecording, untilT: number): TimelineRecording {
  return { ...rec, samples: rec.samples.filter((s) => s.t < untilT) };
}

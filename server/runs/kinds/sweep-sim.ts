/** Worker half of the `sweep` kind: one sweep point (a whole replay) per step. */
import { assembleResult } from "../../../sim/sweep/merge.ts";
import { runPoint } from "../../../sim/sweep/run.ts";
import { productSize } from "../../../sim/sweep/spec.ts";
import type { PointResult } from "../../../sim/sweep/types.ts";
import { playback } from "./playback.ts";
import type { SweepWorkerInput } from "./sweep.ts";
import type { Simulation } from "./types.ts";

export function createSimulation(input: unknown): Simulation {
  const { spec, requests } = input as SweepWorkerInput;
  const total = productSize(spec.vary);
  const points: PointResult[] = [];
  return playback(
    total,
    (i) => {
      const p = runPoint(spec, i, requests);
      points.push(p);
      return p;
    },
    () => assembleResult(spec, total, null, points),
  );
}

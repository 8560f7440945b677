/** Worker half of the `sweep` kind: one sweep point (a whole replay) per step. */
import { assembleResult } from "../../../sim/sweep/merge.ts";
import { runPoint } from "../../../sim/sweep/run.ts";
import { productSize } from "../../../sim/sweep/spec.ts";
import type { PointResult } from "../../../sim/sweep/types.ts";
import type { SweepWorkerInput } from "./sweep.ts";
import type { Simulation } from "./types.ts";

export function createSimulation(input: unknown): Simulation {
  const { spec, requests } = input as SweepWorkerInput;
  const total = productSize(spec.vary);
  const points: PointResult[] = [];
  let out: unknown[] = [];
  return {
    get now() {
      return points.length;
    },
    get finished() {
      return points.length >= total;
    },
    step() {
      if (points.length >= total) return false;
      const p = runPoint(spec, points.length, requests);
      points.push(p);
      out.push(p);
      return true;
    },
    snapshot: () => null,
    drainExtra() {
      const x = out;
      out = [];
      return x;
    },
    result: () => ({ result: assembleResult(spec, total, null, points) }),
  };
}

import { UserError } from "../errors.ts";
import type { Rng } from "./rng.ts";

/**
 * A token-length distribution for synthetic workloads. Every draw is an integer ≥ 1.
 * - fixed: always `value`.
 * - uniform: integer uniform in [min, max] (vLLM's random dataset draws the same way around --random-input-len).
 * - lognormal: round(median · e^(σ·Z)), Z standard normal, capped at `max` — the long right tail real prompt
 *   lengths show.
 * - empirical: a value drawn uniformly from observed lengths (e.g. a trace's), i.e. a bootstrap of its histogram.
 */
export type LengthDist =
  | { kind: "fixed"; value: number }
  | { kind: "uniform"; min: number; max: number }
  | { kind: "lognormal"; median: number; sigma: number; max?: number }
  | { kind: "empirical"; values: readonly number[] };

export function sampleLength(d: LengthDist, rng: Rng): number {
  switch (d.kind) {
    case "fixed":
      return d.value;
    case "uniform":
      return rng.int(d.min, d.max);
    case "lognormal": {
      const v = Math.round(d.median * Math.exp(d.sigma * rng.normal()));
      return Math.max(1, Math.min(d.max ?? Number.MAX_SAFE_INTEGER, v));
    }
    case "empirical":
      return d.values[rng.int(0, d.values.length - 1)];
  }
}

/**
 * Parses a CLI length spec: `512` or `fixed:512`, `uniform:MIN:MAX`, `lognormal:MEDIAN:SIGMA[:MAX]`.
 * (`empirical` needs a trace, so the CLI builds it from `--lengths-from`.)
 */
export function parseLengthDist(text: string, flag: string): LengthDist {
  const parts = text.trim().split(":");
  const int = (s: string | undefined, what: string) => {
    if (s === undefined || !/^\d+$/.test(s.trim()) || Number(s) < 1)
      throw new UserError(`${flag}: ${what} must be a positive integer, got "${s ?? ""}" in "${text}"`, { field: flag });
    return Number(s);
  };
  const num = (s: string | undefined, what: string) => {
    const v = Number(s);
    if (s === undefined || s.trim() === "" || !Number.isFinite(v) || v < 0)
      throw new UserError(`${flag}: ${what} must be a non-negative number, got "${s ?? ""}" in "${text}"`, { field: flag });
    return v;
  };
  const kind = parts.length === 1 ? "fixed" : parts[0].toLowerCase();
  const args = parts.length === 1 ? parts : parts.slice(1);
  switch (kind) {
    case "fixed":
      if (args.length !== 1) break;
      return { kind: "fixed", value: int(args[0], "the length") };
    case "uniform": {
      if (args.length !== 2) break;
      const min = int(args[0], "MIN"), max = int(args[1], "MAX");
      if (max < min) throw new UserError(`${flag}: MAX (${max}) is below MIN (${min}) in "${text}"`, { field: flag });
      return { kind: "uniform", min, max };
    }
    case "lognormal": {
      if (args.length !== 2 && args.length !== 3) break;
      const d: LengthDist = { kind: "lognormal", median: int(args[0], "MEDIAN"), sigma: num(args[1], "SIGMA") };
      if (args.length === 3) d.max = int(args[2], "MAX");
      return d;
    }
  }
  throw new UserError(
    `${flag}: expected N, fixed:N, uniform:MIN:MAX or lognormal:MEDIAN:SIGMA[:MAX], got "${text}"`,
    { field: flag },
  );
}

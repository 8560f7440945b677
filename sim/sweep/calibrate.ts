import { UserError } from "../errors.ts";
import { costInputs, stepCost, type BatchItem } from "../serving/cost-model.ts";
import type { CostModelParams, ServingConfig } from "../serving/types.ts";

/**
 * Calibrating the step-time model from a user's own measurements (`--calibrate FILE`).
 *
 * The cost model is a roofline estimate: a decode step streams the weights and every scheduled request's KV context
 * from HBM, so step ≈ bytes / (η · bandwidth) + comm + overhead. With m = bytes / bandwidth (what the model computes
 * at η = 1) that is linear in m: t − comm = overhead + (1/η) · m. Ordinary least squares over the measured points
 * gives slope 1/η and intercept overhead (`bandwidthEfficiency`, `stepOverheadS`). Decode steps (new_tokens = 1)
 * are what this fits; a compute-bound point (a long prefill) does not follow the line and shows up as a large
 * residual in the report.
 *
 * File: CSV with a header naming `batch`, `context` and `step_time_ms` (or `step_time_s`), optionally `new_tokens`
 * (default 1); `#` comments allowed. Or a JSON array of `{batch, context, stepTimeMs | stepTimeS, newTokens?}`.
 * `context` = tokens already in each request's KV cache when the step runs. vLLM's `benchmark_latency` with
 * `--batch-size B --input-len I --output-len O` gives one point: batch B, context ≈ I + O/2, step = latency / O.
 */
export interface CalibrationPoint {
  batch: number;
  context: number;
  newTokens: number;
  stepTimeS: number;
  /** file:line, for messages. */
  source: string;
}

export interface CalibrationFit {
  params: Pick<CostModelParams, "bandwidthEfficiency" | "stepOverheadS">;
  /** Per point: measured, predicted with the fitted params (full cost model), relative error. */
  residuals: { source: string; batch: number; context: number; measuredS: number; predictedS: number; error: number }[];
  /** Root-mean-square relative error. */
  rmsError: number;
  notes: string[];
}

export function parseCalibrationText(text: string, fileName = "calibration"): CalibrationPoint[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) return parseJson(trimmed, fileName);
  const lines = text.split(/\r?\n/);
  let header: string[] | null = null;
  const out: CalibrationPoint[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*$/, "").trim();
    if (line === "") continue;
    const where = `${fileName}:${i + 1}`;
    const cells = line.split(",").map((c) => c.trim());
    if (!header) {
      header = cells.map((c) => c.toLowerCase());
      for (const need of ["batch", "context"])
        if (!header.includes(need)) throw new UserError(`${where}: header needs a "${need}" column (got ${cells.join(", ")})`, { location: where });
      if (!header.includes("step_time_ms") && !header.includes("step_time_s"))
        throw new UserError(`${where}: header needs "step_time_ms" or "step_time_s"`, { location: where });
      continue;
    }
    if (cells.length !== header.length) throw new UserError(`${where}: ${cells.length} cells, header has ${header.length}`, { location: where });
    const get = (name: string) => {
      const k = header!.indexOf(name);
      return k < 0 ? undefined : cells[k];
    };
    const ms = get("step_time_ms");
    out.push(
      point(
        { batch: get("batch"), context: get("context"), newTokens: get("new_tokens") ?? "1", stepTimeS: ms !== undefined ? Number(ms) / 1000 : get("step_time_s") },
        where,
      ),
    );
  }
  if (out.length === 0) throw new UserError(`${fileName}: no calibration points`, { location: fileName });
  return out;
}

function parseJson(text: string, fileName: string): CalibrationPoint[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${fileName}: not valid JSON (${(e as Error).message})`, { location: fileName });
  }
  if (!Array.isArray(data) || data.length === 0) throw new UserError(`${fileName}: expected a non-empty JSON array of points`, { location: fileName });
  return data.map((d, i) => {
    const o = (d ?? {}) as Record<string, unknown>;
    const where = `${fileName}[${i}]`;
    const s = o.stepTimeS ?? (o.stepTimeMs !== undefined ? Number(o.stepTimeMs) / 1000 : undefined);
    return point({ batch: o.batch, context: o.context, newTokens: o.newTokens ?? 1, stepTimeS: s }, where);
  });
}

const LABELS: Record<string, string> = { stepTimeS: "step time", newTokens: "new_tokens" };

function point(raw: Record<string, unknown>, where: string): CalibrationPoint {
  const num = (k: string, integer: boolean, min: number) => {
    const v = Number(raw[k]);
    if (raw[k] === undefined || raw[k] === "" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
      throw new UserError(`${where}: ${LABELS[k] ?? k} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got "${String(raw[k])}"`, { location: where, field: k });
    return v;
  };
  const stepTimeS = num("stepTimeS", false, 0);
  if (!(stepTimeS > 0)) throw new UserError(`${where}: step time must be positive`, { location: where });
  return { batch: num("batch", true, 1), context: num("context", true, 0), newTokens: num("newTokens", true, 1), stepTimeS, source: where };
}

function batchOf(p: CalibrationPoint): BatchItem[] {
  return Array.from({ length: p.batch }, () => ({ numTokens: p.newTokens, numComputedBefore: p.context }));
}

/** Least-squares fit of η and the fixed overhead for `config`'s model, GPU and TP. */
export function fitCostModel(config: ServingConfig, points: readonly CalibrationPoint[]): CalibrationFit {
  if (points.length === 0) throw new UserError("--calibrate: no points", { field: "--calibrate" });
  const unit = costInputs({ ...config, costModel: { ...config.costModel, bandwidthEfficiency: 1, stepOverheadS: 0 } });
  const xs: number[] = [];
  const ys: number[] = [];
  for (const p of points) {
    const c = stepCost(unit, batchOf(p));
    xs.push(c.memorySeconds);
    ys.push(p.stepTimeS - c.commSeconds);
  }
  const notes: string[] = [];
  let slope: number;
  let intercept: number;
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const defaults = costInputs(config).params;
  if (n >= 2 && sxx > 1e-18 * Math.max(1, mx * mx)) {
    slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / sxx;
    intercept = my - slope * mx;
  } else {
    intercept = defaults.stepOverheadS;
    slope = ys.reduce((a, y, i) => a + (y - intercept) * xs[i], 0) / xs.reduce((a, x) => a + x * x, 0);
    notes.push(`one distinct point: fitted bandwidthEfficiency only, kept stepOverheadS = ${(intercept * 1e3).toFixed(2)} ms`);
  }
  if (intercept < 0) {
    // A negative overhead is unphysical: refit through the origin.
    intercept = 0;
    slope = ys.reduce((a, y, i) => a + y * xs[i], 0) / xs.reduce((a, x) => a + x * x, 0);
    notes.push("the free fit gave a negative overhead; refitted with stepOverheadS = 0");
  }
  if (!(slope > 0)) throw new UserError("--calibrate: step times do not grow with bytes read; cannot fit a bandwidth efficiency", { field: "--calibrate" });
  const params = { bandwidthEfficiency: 1 / slope, stepOverheadS: intercept };
  if (params.bandwidthEfficiency > 1) notes.push(`fitted bandwidthEfficiency ${params.bandwidthEfficiency.toFixed(3)} exceeds 1: check the GPU preset or the measurements`);
  const fitted = costInputs({ ...config, costModel: { ...config.costModel, ...params } });
  const residuals = points.map((p) => {
    const predictedS = stepCost(fitted, batchOf(p)).seconds;
    return { source: p.source, batch: p.batch, context: p.context, measuredS: p.stepTimeS, predictedS, error: predictedS / p.stepTimeS - 1 };
  });
  const rmsError = Math.sqrt(residuals.reduce((a, r) => a + r.error ** 2, 0) / residuals.length);
  return { params, residuals, rmsError, notes };
}

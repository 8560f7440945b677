import { isUserError } from "../errors.ts";
import { resolveServingConfig, type ServingConfigInput } from "../serving/config.ts";
import { ServingEngine } from "../serving/engine.ts";
import type { TraceRequest } from "../traces/types.ts";
import { assembleResult } from "./merge.ts";
import { pointMetrics, sloViolations } from "./metrics.ts";
import { paramDef, type ParamValue } from "./params.ts";
import { priceFor } from "./prices.ts";
import { shardIndices, type Shard } from "./shard.ts";
import { pointParams, productSize } from "./spec.ts";
import type { PointResult, SweepResult, SweepSpec } from "./types.ts";

/**
 * Runs sweep points: one fresh engine per point over the same trace. Deterministic (the engine is, for a config
 * and trace), so a point's result does not depend on which worker or shard ran it — what makes `--shard` + merge
 * and the worker pool give the same JSON as a sequential run.
 */

/** The serving-config input of a point: the base flags with the point's parameters laid over them. */
export function pointInput(spec: SweepSpec, params: Record<string, ParamValue>): { input: ServingConfigInput; rateScale: number } {
  const input: Record<string, unknown> = { ...spec.base };
  let rateScale = 1;
  for (const [name, value] of Object.entries(params)) {
    const def = paramDef(name);
    if (def.field === "rateScale") rateScale = value as number;
    else input[def.field] = value;
  }
  return { input: input as ServingConfigInput, rateScale };
}

/** Arrivals divided by `scale` (2 = twice the request rate); the trace is shared, so copies are made. */
export function scaleArrivals(requests: readonly TraceRequest[], scale: number): readonly TraceRequest[] {
  if (scale === 1) return requests;
  return requests.map((r) => ({ ...r, arrival: r.arrival / scale }));
}

/** One point. Bad configurations (UserError from config resolution or the KV budget) become infeasible points. */
export function runPoint(spec: SweepSpec, index: number, requests: readonly TraceRequest[]): PointResult {
  const params = pointParams(spec.vary, index);
  let engine: ServingEngine;
  let rateScale: number;
  try {
    const p = pointInput(spec, params);
    rateScale = p.rateScale;
    engine = new ServingEngine(resolveServingConfig(p.input));
  } catch (e) {
    if (isUserError(e)) return { index, params, feasible: false, reason: e.message };
    throw e;
  }
  engine.addRequests(scaleArrivals(requests, rateScale));
  engine.endTrace();
  const summary = engine.runToEnd();
  const config = engine.config;
  const metrics = pointMetrics(
    summary,
    engine.requestRecords(),
    {
      budget: engine.budget,
      numGpus: config.tensorParallelSize,
      kvOverridden: config.kvCacheMemoryBytes !== undefined || config.numGpuBlocksOverride !== undefined,
      pricePerGpuHour: priceFor(spec.prices, config.gpu.name),
    },
    spec.slo,
  );
  const violations = sloViolations(metrics, spec.slo);
  return { index, params, feasible: true, metrics, meetsSlo: violations.length === 0, violations };
}

export interface SequentialOptions {
  shard?: Shard | null;
  /** Called after each point with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The whole sweep (or one shard) on the calling thread: for the server's run kind, for tests, and as the
 * reference the worker pool must reproduce.
 */
export function runSweepSequential(spec: SweepSpec, requests: readonly TraceRequest[], opts: SequentialOptions = {}): SweepResult {
  const total = productSize(spec.vary);
  const points: PointResult[] = [];
  const indices = shardIndices(total, opts.shard);
  for (const p of sweepPoints(spec, requests, opts.shard)) {
    points.push(p);
    opts.onProgress?.(points.length, indices.length);
  }
  return assembleResult(spec, total, opts.shard ?? null, points);
}

/**
 * The points one at a time, for a caller that streams partial results (the server's run kind) or yields to an
 * event loop between points; `assembleResult(spec, productSize(spec.vary), shard, points)` then gives the result.
 */
export function* sweepPoints(spec: SweepSpec, requests: readonly TraceRequest[], shard?: Shard | null): Generator<PointResult> {
  for (const i of shardIndices(productSize(spec.vary), shard)) yield runPoint(spec, i, requests);
}

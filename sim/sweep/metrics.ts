import type { KvBudget, ReplaySummary, RequestRecord } from "../serving/types.ts";
import type { PointMetrics, Slo, Violation } from "./types.ts";

/**
 * Turns one replay's summary and request records into a sweep point's metrics. Percentiles are the engine's own
 * (the numbers `vramscope replay` prints for the same config); goodput is recomputed per request because it needs
 * each request's TTFT and TPOT against the SLO.
 */
export interface PointContext {
  budget: KvBudget;
  numGpus: number;
  /** True when `--kv-cache-memory` / `--num-gpu-blocks-override` set the KV size instead of the utilisation. */
  kvOverridden: boolean;
  /** USD per GPU-hour for this point's GPU, if known. */
  pricePerGpuHour: number | null;
}

export function pointMetrics(summary: ReplaySummary, records: readonly RequestRecord[], ctx: PointContext, slo: Slo): PointMetrics {
  const dur = summary.simulatedSeconds;
  let good = 0;
  let completed = 0;
  let tokens = 0;
  for (const r of records) {
    if (r.rejected || r.finishTime === null || r.firstTokenTime === null) continue;
    completed++;
    tokens += r.promptTokens + r.outputTokens;
    if (meetsRequestSlo(r, slo)) good++;
  }
  const b = ctx.budget;
  const perGpu = ctx.kvOverridden ? b.weightsBytes + b.activationPeakBytes + b.nonTorchBytes + b.kvCacheBytes : b.requestedBytes;
  const outPerS = summary.throughput.outputTokensPerS;
  const costPerHour = ctx.pricePerGpuHour === null ? null : ctx.pricePerGpuHour * ctx.numGpus;
  return {
    requests: summary.requests,
    completed: summary.completed,
    rejected: summary.rejected,
    simulatedSeconds: dur,
    throughput: { ...summary.throughput },
    goodput: { requestsPerS: dur > 0 ? good / dur : 0, fraction: summary.requests > 0 ? good / summary.requests : 0 },
    ttft: { p50: summary.ttft.p50, p99: summary.ttft.p99 },
    tpot: { p50: summary.tpot.p50, p99: summary.tpot.p99 },
    preemptions: summary.preemptions,
    recomputedTokens: summary.recomputedTokens,
    recomputedTokenShare: tokens + summary.recomputedTokens > 0 ? summary.recomputedTokens / (tokens + summary.recomputedTokens) : 0,
    peakKvUsage: summary.peakKvUsage,
    numGpuBlocks: b.numGpuBlocks,
    kvCacheTokens: b.kvCacheTokens,
    numGpus: ctx.numGpus,
    memoryBudgetBytes: Math.round(perGpu * ctx.numGpus),
    kvCacheBytes: b.kvCacheBytes,
    costPerHour,
    costPerMillionOutputTokens: costPerMillionTokens(costPerHour, outPerS),
  };
}

/** USD per 10⁶ output tokens = (USD/h) / (tokens/s × 3600 s/h) × 10⁶. Null without a price or without output. */
export function costPerMillionTokens(costPerHour: number | null, outputTokensPerS: number): number | null {
  if (costPerHour === null || !(outputTokensPerS > 0)) return null;
  return (costPerHour / (outputTokensPerS * 3600)) * 1e6;
}

/**
 * Per-request SLO test with vLLM's benchmark definitions: TTFT = first token − arrival; TPOT = (e2e − TTFT) /
 * (output tokens − 1), 0 for single-token outputs.
 */
export function meetsRequestSlo(r: RequestRecord, slo: Slo): boolean {
  if (r.firstTokenTime === null || r.finishTime === null) return false;
  const ttft = r.firstTokenTime - r.arrival;
  const tpot = r.outputTokens > 1 ? (r.finishTime - r.firstTokenTime) / (r.outputTokens - 1) : 0;
  if (slo.ttftP99 !== undefined && ttft > slo.ttftP99) return false;
  if (slo.tpotP99 !== undefined && tpot > slo.tpotP99) return false;
  return true;
}

/** Point-level SLO check on the p99s; every violated constraint with its excess (value / limit − 1). */
export function sloViolations(m: PointMetrics, slo: Slo): Violation[] {
  const out: Violation[] = [];
  const check = (constraint: Violation["constraint"], limit: number | undefined, value: number) => {
    if (limit === undefined) return;
    if (!(value <= limit)) out.push({ constraint, limit, value, excess: limit > 0 ? value / limit - 1 : Infinity });
  };
  check("ttft-p99", slo.ttftP99, m.ttft.p99);
  check("tpot-p99", slo.tpotP99, m.tpot.p99);
  if (m.completed === 0 && m.requests > 0 && (slo.ttftP99 !== undefined || slo.tpotP99 !== undefined) && out.length === 0)
    out.push({ constraint: "ttft-p99", limit: slo.ttftP99 ?? 0, value: Infinity, excess: Infinity });
  return out;
}

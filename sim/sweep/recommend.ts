import { kneeFor } from "./knee.ts";
import { sloViolations } from "./metrics.ts";
import type { Knee, PointResult, Recommendation, Slo, Violation } from "./types.ts";

/**
 * The recommendation rule, in the order a capacity planner argues it:
 * 1. qualify: feasible and every SLO met on the p99s;
 * 2. cheapest: with prices for every qualifying point, the lowest USD per million output tokens, treating points
 *    within COST_TIE of the minimum as equally cheap (simulated throughputs of configurations that all keep up
 *    with the same trace differ by noise, and noise must not buy a bigger budget); without prices, the fewest GPUs;
 * 3. among those, the smallest memory budget (bytes reserved across the point's GPUs);
 * 4. then the higher goodput, then the lower point index (deterministic).
 * When nothing qualifies it says which constraint fails and by how much: per SLO the best value any feasible point
 * reached, and the point whose worst excess is smallest.
 */
export const COST_TIE = 0.01;

export function recommend(points: readonly PointResult[], slo: Slo, knees: readonly Knee[]): Recommendation {
  const feasible = points.filter((p) => p.feasible && p.metrics);
  const qualifying = feasible.filter((p) => sloViolations(p.metrics!, slo).length === 0);
  if (qualifying.length > 0) {
    const priced = qualifying.every((p) => p.metrics!.costPerMillionOutputTokens !== null);
    let pool: PointResult[];
    const rankedBy: string[] = [];
    if (priced) {
      const min = Math.min(...qualifying.map((p) => p.metrics!.costPerMillionOutputTokens!));
      pool = qualifying.filter((p) => p.metrics!.costPerMillionOutputTokens! <= min * (1 + COST_TIE));
      rankedBy.push(`cost per million output tokens (within ${COST_TIE * 100}% of the cheapest)`);
    } else {
      const min = Math.min(...qualifying.map((p) => p.metrics!.numGpus));
      pool = qualifying.filter((p) => p.metrics!.numGpus === min);
      const some = qualifying.some((p) => p.metrics!.costPerMillionOutputTokens !== null);
      rankedBy.push(some ? "fewest GPUs (cost not ranked: --gpu-hour-price missing for some qualifying GPUs)" : "fewest GPUs");
    }
    rankedBy.push("smallest memory budget", "highest goodput", "lowest point index");
    pool.sort(
      (a, b) =>
        a.metrics!.memoryBudgetBytes - b.metrics!.memoryBudgetBytes ||
        b.metrics!.goodput.requestsPerS - a.metrics!.goodput.requestsPerS ||
        a.index - b.index,
    );
    const point = pool[0];
    const m = point.metrics!;
    const knee = kneeFor(point, knees);
    const costText = m.costPerMillionOutputTokens !== null ? `, $${m.costPerMillionOutputTokens.toFixed(3)} per M output tokens` : "";
    const kneeText = knee?.knee ? `; preemptions level off from ${knee.param}=${knee.knee.value} (knee)` : "";
    return {
      point,
      reason:
        `${qualifying.length} of ${points.length} points meet the SLOs; chose point #${point.index} (${describe(point)}): ` +
        `${(m.memoryBudgetBytes / 2 ** 30).toFixed(1)} GiB on ${m.numGpus} GPU(s)${costText}, ` +
        `TTFT p99 ${fmtS(m.ttft.p99)}, TPOT p99 ${fmtS(m.tpot.p99)}${kneeText}`,
      rankedBy,
      qualifying: qualifying.length,
      knee,
    };
  }
  if (feasible.length === 0) {
    const reasons = new Map<string, number>();
    for (const p of points) reasons.set(p.reason ?? "unknown", (reasons.get(p.reason ?? "unknown") ?? 0) + 1);
    const list = [...reasons].map(([r, n]) => `${n}× ${r}`).join("; ");
    return {
      point: null,
      reason: points.length === 0 ? "no points to choose from" : `no point is feasible: ${list}`,
      rankedBy: [],
      qualifying: 0,
      knee: null,
    };
  }
  // Nothing qualifies: per constraint, the best value reached.
  const failing: NonNullable<Recommendation["failing"]> = [];
  const constraints: [Violation["constraint"], number | undefined, (p: PointResult) => number][] = [
    ["ttft-p99", slo.ttftP99, (p) => p.metrics!.ttft.p99],
    ["tpot-p99", slo.tpotP99, (p) => p.metrics!.tpot.p99],
  ];
  for (const [constraint, limit, get] of constraints) {
    if (limit === undefined) continue;
    let best = feasible[0];
    for (const p of feasible) if (get(p) < get(best)) best = p;
    const v = get(best);
    failing.push({ constraint, limit, best: v, excess: limit > 0 ? v / limit - 1 : Infinity, bestIndex: best.index });
  }
  const worst = (p: PointResult) => Math.max(...sloViolations(p.metrics!, slo).map((v) => v.excess));
  const nearest = [...feasible].sort((a, b) => worst(a) - worst(b) || a.index - b.index)[0];
  const unreachable = failing.filter((f) => f.excess > 0);
  const nearText = sloViolations(nearest.metrics!, slo)
    .map((v) => `${label(v.constraint)} ${fmtS(v.value)} vs ${fmtS(v.limit)} (+${pct(v.excess)})`)
    .join(", ");
  const reason =
    unreachable.length > 0
      ? `no point meets the SLOs: ` +
        unreachable
          .map((f) => `${label(f.constraint)} is at best ${fmtS(f.best)} (point #${f.bestIndex}) against ${fmtS(f.limit)}, ${pct(f.excess)} over`)
          .join("; ") +
        `; nearest is point #${nearest.index} (${describe(nearest)}): ${nearText}`
      : `each SLO is met by some point but no point meets all of them; nearest is point #${nearest.index} (${describe(nearest)}): ${nearText}`;
  return {
    point: null,
    reason,
    rankedBy: [],
    qualifying: 0,
    failing,
    nearest,
    knee: kneeFor(nearest, knees),
  };
}

function describe(p: PointResult): string {
  const parts = Object.entries(p.params).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(" ") : "base config";
}

function label(c: Violation["constraint"]): string {
  return c === "ttft-p99" ? "TTFT p99" : "TPOT p99";
}

export function fmtS(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  return s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "∞";
}

import { MEMORY_PARAMS, type ParamValue } from "./params.ts";
import type { Knee, PointResult } from "./types.ts";
import type { VaryParam } from "./spec.ts";

/**
 * The knee of the preemption curve: preemptions fall steeply as memory grows, then flatten; the knee is where
 * buying more memory stops paying. Found with Kneedle (Satopää et al., ICDCS-W 2011): normalise both axes to
 * [0, 1] and take the point farthest below the chord from the first point to the last. For a decreasing convex
 * curve the chord is y = 1 − x, so the distance is 1 − x̂ − ŷ. Needs three points; a flat curve has no knee.
 */
export function kneedle(full: readonly [number, number][]): { value: number; preemptions: number; index: number } | null {
  // Preemptions can rise before they fall (with very little KV, requests mostly wait instead of being admitted and
  // evicted), so the knee is sought on the falling tail: from the (first) maximum onwards.
  let start = 0;
  for (let i = 1; i < full.length; i++) if (full[i][1] > full[start][1]) start = i;
  const curve = full.slice(start);
  if (curve.length < 3) return null;
  const xs = curve.map((p) => p[0]);
  const ys = curve.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  if (x1 === x0 || y1 === y0) return null;
  let best = -1;
  let bestD = 0;
  for (let i = 0; i < curve.length; i++) {
    const d = 1 - (xs[i] - x0) / (x1 - x0) - (ys[i] - y0) / (y1 - y0);
    if (d > bestD + 1e-12) {
      bestD = d;
      best = i;
    }
  }
  return best < 0 ? null : { value: xs[best], preemptions: ys[best], index: best + start };
}

/** The smallest x from which the curve stays at zero preemptions (ascending x), or null. */
export function preemptionFreeFrom(curve: readonly [number, number][]): number | null {
  let from: number | null = null;
  for (let i = curve.length - 1; i >= 0 && curve[i][1] === 0; i--) from = curve[i][0];
  return from;
}

/** The varied memory parameter that is the curve's x-axis (the first of MEMORY_PARAMS varied), or null. */
export function memoryAxis(vary: readonly VaryParam[]): string | null {
  for (const name of MEMORY_PARAMS) if (vary.some((p) => p.name === name && p.values.length > 1)) return name;
  return null;
}

function groupKey(params: Record<string, ParamValue>, axis: string): string {
  return JSON.stringify(Object.entries(params).filter(([k]) => k !== axis));
}

/** One preemption curve per combination of the other parameters, over feasible points. */
export function preemptionKnees(points: readonly PointResult[], vary: readonly VaryParam[]): Knee[] {
  const axis = memoryAxis(vary);
  if (!axis) return [];
  const groups = new Map<string, PointResult[]>();
  for (const p of points) {
    if (!p.feasible || !p.metrics) continue;
    const k = groupKey(p.params, axis);
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  const out: Knee[] = [];
  for (const g of groups.values()) {
    const curve = g
      .map((p) => [Number(p.params[axis]), p.metrics!.preemptions] as [number, number])
      .sort((a, b) => a[0] - b[0]);
    const fixed = Object.fromEntries(Object.entries(g[0].params).filter(([k]) => k !== axis));
    out.push({ param: axis, fixed, curve, knee: kneedle(curve), preemptionFreeFrom: preemptionFreeFrom(curve) });
  }
  return out;
}

/** The curve the point lies on, if any. */
export function kneeFor(point: PointResult, knees: readonly Knee[]): Knee | null {
  for (const k of knees) {
    if (Object.entries(k.fixed).every(([name, v]) => point.params[name] === v)) return k;
  }
  return null;
}

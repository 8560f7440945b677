import type { MemorySnapshot } from "../../sim/serving/types.ts";

/**
 * Downsamples a memory series to at most `max` points, keeping what a viewer must not miss: the first and last
 * points, and in every bucket the point with the highest KV usage (memory spikes are the point of the tool, so a
 * plain stride that could skip a spike would lie). Returns the kept points in time order and how many were dropped.
 *
 * Invariants: DS-1 kept.length ≤ max (for max ≥ 2) and kept.length + dropped === series.length; DS-2 for max ≥ 3
 * the point of highest KV use in the whole series is kept.
 */
export function downsampleSnapshots(
  series: readonly MemorySnapshot[],
  max: number,
): { kept: MemorySnapshot[]; dropped: number } {
  const n = series.length;
  if (n <= max) return { kept: series.slice(), dropped: 0 };
  if (max < 2) return { kept: [series[n - 1]], dropped: n - 1 };
  const kept: MemorySnapshot[] = [series[0]];
  const inner = max - 2;
  // Buckets over series[1 .. n-2], one point (the KV-usage peak) from each.
  const span = n - 2;
  for (let b = 0; b < inner; b++) {
    const lo = 1 + Math.floor((b * span) / inner);
    const hi = 1 + Math.floor(((b + 1) * span) / inner);
    if (hi <= lo) continue;
    let best = lo;
    for (let i = lo + 1; i < hi; i++) if (peakKey(series[i]) > peakKey(series[best])) best = i;
    kept.push(series[best]);
  }
  kept.push(series[n - 1]);
  return { kept, dropped: n - kept.length };
}

function peakKey(s: MemorySnapshot): number {
  return s.kvUsedBytes + s.activationBytes;
}

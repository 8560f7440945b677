import { UserError } from "../errors.ts";
import { preemptionKnees } from "./knee.ts";
import { recommend } from "./recommend.ts";
import type { Shard } from "./shard.ts";
import type { PointResult, SweepResult, SweepSpec } from "./types.ts";

/**
 * Builds the result object from the points run, recomputing knees and the recommendation from the points alone,
 * so that a whole sweep and the merge of its shards give identical JSON.
 */
export function assembleResult(spec: SweepSpec, totalPoints: number, shard: Shard | null, points: PointResult[]): SweepResult {
  const sorted = [...points].sort((a, b) => a.index - b.index);
  const knees = preemptionKnees(sorted, spec.vary);
  return { version: 1, spec, totalPoints, shard, points: sorted, recommendation: recommend(sorted, spec.slo, knees), knees };
}

/**
 * `vramscope sweep merge`: joins shard results of one sweep. Refuses shards of different sweeps (spec or point count
 * differ), a point present twice, and — unless `allowPartial` — missing points (naming the shards to re-run).
 * `labels` name the inputs (file paths) in messages.
 */
export function mergeSweepResults(results: readonly SweepResult[], labels: readonly string[] = [], allowPartial = false): SweepResult {
  if (results.length === 0) throw new UserError("sweep merge: no shard files given", { field: "FILES" });
  const name = (i: number) => labels[i] ?? `input ${i + 1}`;
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (!r || r.version !== 1 || !Array.isArray(r.points) || !r.spec)
      throw new UserError(`sweep merge: ${name(i)} is not a vramscope sweep --json result`, { field: "FILES", location: name(i) });
  }
  const first = results[0];
  const specText = JSON.stringify(first.spec);
  for (let i = 1; i < results.length; i++) {
    if (JSON.stringify(results[i].spec) !== specText || results[i].totalPoints !== first.totalPoints)
      throw new UserError(
        `sweep merge: ${name(i)} comes from a different sweep than ${name(0)} (trace, flags, --vary or SLOs differ)`,
        { field: "FILES", location: name(i) },
      );
  }
  const byIndex = new Map<number, PointResult>();
  for (let i = 0; i < results.length; i++) {
    for (const p of results[i].points) {
      if (byIndex.has(p.index))
        throw new UserError(`sweep merge: point #${p.index} appears twice (again in ${name(i)}); was a shard merged twice?`, {
          field: "FILES",
          location: name(i),
        });
      byIndex.set(p.index, p);
    }
  }
  const missing: number[] = [];
  for (let i = 0; i < first.totalPoints; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0 && !allowPartial) {
    const counts = new Set(results.map((r) => r.shard?.count).filter((c): c is number => c !== undefined));
    const shardHint =
      counts.size === 1
        ? `; missing shard(s) ${[...new Set(missing.map((m) => `${m % [...counts][0]}/${[...counts][0]}`))].join(", ")}`
        : "";
    throw new UserError(
      `sweep merge: ${missing.length} of ${first.totalPoints} points missing (first: #${missing.slice(0, 5).join(", #")})${shardHint}`,
      { field: "FILES" },
    );
  }
  return assembleResult(first.spec, first.totalPoints, null, [...byIndex.values()]);
}

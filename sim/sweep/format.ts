import { csvTable } from "../export/csv.ts";
import { fmtS } from "./recommend.ts";
import type { PointResult, SweepResult } from "./types.ts";

/**
 * The sweep's table as CSV (one row per point, infeasible points included with their reason) and as aligned text
 * for the terminal. Pure, so the server can offer the same CSV.
 */
const METRIC_COLUMNS = [
  "feasible",
  "reason",
  "meets_slo",
  "requests",
  "completed",
  "rejected",
  "throughput_req_s",
  "output_tok_s",
  "goodput_req_s",
  "goodput_fraction",
  "ttft_p50_s",
  "ttft_p99_s",
  "tpot_p50_s",
  "tpot_p99_s",
  "preemptions",
  "recomputed_token_share",
  "peak_kv_usage",
  "num_gpu_blocks",
  "num_gpus",
  "memory_budget_bytes",
  "cost_per_hour_usd",
  "cost_per_m_output_tokens_usd",
] as const;

export function sweepCsv(r: SweepResult): string {
  const params = r.spec.vary.map((v) => v.name);
  return csvTable(
    ["index", ...params, ...METRIC_COLUMNS],
    r.points.map((p) => {
      const m = p.metrics;
      return [
        p.index,
        ...params.map((k) => p.params[k]),
        p.feasible,
        p.reason ?? "",
        p.meetsSlo ?? "",
        m?.requests,
        m?.completed,
        m?.rejected,
        m?.throughput.requestsPerS,
        m?.throughput.outputTokensPerS,
        m?.goodput.requestsPerS,
        m?.goodput.fraction,
        m?.ttft.p50,
        m?.ttft.p99,
        m?.tpot.p50,
        m?.tpot.p99,
        m?.preemptions,
        m?.recomputedTokenShare,
        m?.peakKvUsage,
        m?.numGpuBlocks,
        m?.numGpus,
        m?.memoryBudgetBytes,
        m?.costPerHour,
        m?.costPerMillionOutputTokens,
      ];
    }),
  );
}

function row(p: PointResult, params: string[], chosen: number | null): string[] {
  const m = p.metrics;
  const mark = p.index === chosen ? "→" : p.feasible ? (p.meetsSlo ? "✓" : "✗") : "–";
  const head = [`${mark} ${p.index}`, ...params.map((k) => String(p.params[k]))];
  if (!m) return [...head, `infeasible: ${p.reason ?? ""}`];
  return [
    ...head,
    (m.memoryBudgetBytes / 2 ** 30).toFixed(1),
    fmtS(m.ttft.p99),
    fmtS(m.tpot.p99),
    m.throughput.outputTokensPerS.toFixed(0),
    m.goodput.requestsPerS.toFixed(2),
    String(m.preemptions),
    `${(m.recomputedTokenShare * 100).toFixed(1)}%`,
    `${(m.peakKvUsage * 100).toFixed(0)}%`,
    m.costPerMillionOutputTokens === null ? "-" : `$${m.costPerMillionOutputTokens.toFixed(3)}`,
  ];
}

export function sweepText(r: SweepResult): string {
  const params = r.spec.vary.map((v) => v.name);
  const header = ["#", ...params, "GiB", "TTFT p99", "TPOT p99", "out tok/s", "goodput/s", "preempt", "recomp", "peak KV", "$/M out"];
  const chosen = r.recommendation.point?.index ?? null;
  const rows = r.points.map((p) => row(p, params, chosen));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((x) => x.length === header.length).map((x) => x[i].length)));
  const fmt = (cells: string[]) =>
    cells.length === header.length ? cells.map((c, i) => c.padStart(widths[i])).join("  ") : cells.map((c, i) => (i < params.length + 1 ? c.padStart(widths[i]) : c)).join("  ");
  const lines = [fmt(header), ...rows.map(fmt)];
  const slo = [r.spec.slo.ttftP99 !== undefined ? `TTFT p99 ≤ ${fmtS(r.spec.slo.ttftP99)}` : "", r.spec.slo.tpotP99 !== undefined ? `TPOT p99 ≤ ${fmtS(r.spec.slo.tpotP99)}` : ""]
    .filter(Boolean)
    .join(", ");
  lines.push("");
  if (r.shard) lines.push(`shard ${r.shard.index}/${r.shard.count}: ${r.points.length} of ${r.totalPoints} points (merge the shards' --json with \`vramscope sweep merge\`)`);
  lines.push(`SLOs: ${slo || "none (every feasible point qualifies)"}`);
  lines.push(`recommendation: ${r.recommendation.reason}`);
  const k = r.recommendation.knee;
  if (k) {
    const curve = k.curve.map(([x, y]) => `${x}:${y}`).join(" ");
    const free = k.preemptionFreeFrom !== null ? `; no preemptions from ${k.preemptionFreeFrom}` : "";
    lines.push(`preemption curve over ${k.param} (${curve})` + (k.knee ? `: knee at ${k.knee.value} (${k.knee.preemptions} preemptions)` : ": no knee (flat)") + free);
  }
  return lines.join("\n") + "\n";
}

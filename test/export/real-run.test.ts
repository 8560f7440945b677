import { describe, expect, it } from "vitest";
import { parse } from "csv-parse/sync";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { recordRun } from "../../sim/export/record-run.ts";
import { toPerfetto } from "../../sim/export/perfetto.ts";
import { toCsv } from "../../sim/export/csv.ts";
import { toPrometheusText } from "../../sim/export/prometheus.ts";
import { toJsonSummary } from "../../sim/export/summary.ts";
import { traceEventViolations } from "./trace-event-rules.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";

/**
 * Exports of a real engine run that preempts: 12 requests of 200 prompt + 100 output tokens arriving 50 ms apart
 * on 64 blocks of 16 tokens (1024 tokens; a full context of 300 tokens takes 19 blocks, so four running requests do not fit
 * with more running), constant 10 ms steps.
 */
function run() {
  const config = resolveServingConfig({ maxModelLen: 512, numGpuBlocksOverride: 64, stepTimeS: 0.01, maxNumSeqs: 8 });
  const trace: TraceRequest[] = Array.from({ length: 12 }, (_, i) => ({ arrival: i * 0.05, promptTokens: 200, outputTokens: 100 }));
  return recordRun(config, trace, { label: "preempting run" });
}

describe("exports of a real run", () => {
  const { engine, recording } = run();
  const s = recording.summary;

  it("preempts (the scenario exercises flows)", () => {
    expect(s.preemptions).toBeGreaterThan(0);
    expect(s.completed).toBe(12);
  });

  it("Perfetto JSON obeys the format and mirrors the summary", () => {
    const file = JSON.parse(JSON.stringify(toPerfetto(recording)));
    expect(traceEventViolations(file)).toEqual([]);
    const ev = file.traceEvents as { ph: string; name: string; dur?: number; cat?: string }[];
    expect(ev.filter((e) => e.ph === "X")).toHaveLength(s.engineSteps);
    // Every step lasts the constant 10 ms.
    expect(new Set(ev.filter((e) => e.ph === "X").map((e) => e.dur))).toEqual(new Set([10000]));
    expect(ev.filter((e) => e.ph === "b" && e.name.startsWith("req-"))).toHaveLength(12);
    expect(ev.filter((e) => e.ph === "b" && e.name === "preempted")).toHaveLength(s.preemptions);
    expect(ev.filter((e) => e.ph === "s")).toHaveLength(s.preemptions);
  });

  it("CSV has a row per snapshot and per request", () => {
    const csv = toCsv(recording);
    expect(parse(csv.memory, { columns: true })).toHaveLength(recording.snapshots.length);
    const reqs = parse(csv.requests!, { columns: true }) as Record<string, string>[];
    expect(reqs).toHaveLength(12);
    expect(reqs.reduce((a, r) => a + Number(r.preemptions), 0)).toBe(s.preemptions);
  });

  it("Prometheus counters agree with the summary", async () => {
    const text = await toPrometheusText(recording);
    const model = engine.config.model.name;
    expect(text).toContain(`vllm:num_preemptions_total{model_name="${model}",engine="0"} ${s.preemptions}`);
    expect(text).toContain(`vllm:generation_tokens_total{model_name="${model}",engine="0"} 1200`);
    expect(text).toContain(`vllm:time_to_first_token_seconds_count{model_name="${model}",engine="0"} 12`);
  });

  it("JSON summary is the replay report plus config and budget", () => {
    const j = toJsonSummary(recording) as { summary: unknown; budget: { numGpuBlocks: number }; config: { model: string } };
    expect(j.summary).toEqual(s);
    expect(j.budget.numGpuBlocks).toBe(64);
    expect(j.config.model).toBe("meta-llama/Llama-3.1-8B-Instruct");
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { csvField, MEMORY_COLUMNS, REQUEST_COLUMNS, toCsv } from "../../sim/export/csv.ts";
import { build125Buckets, toPrometheusText } from "../../sim/export/prometheus.ts";
import { toJsonSummary } from "../../sim/export/summary.ts";
import type { TimelineRecording } from "../../sim/export/recording.ts";
import { toPerfetto } from "../../sim/export/perfetto.ts";
import { traceEventViolations } from "./trace-event-rules.ts";
import { handRecording } from "./fixture.ts";

const MiB = 2 ** 20;

describe("CSV export", () => {
  const csv = toCsv(handRecording());

  it("memory timeline parses back with one row per snapshot", () => {
    const rows = parse(csv.memory, { columns: true, cast: true }) as Record<string, number>[];
    expect(Object.keys(rows[0])).toEqual([...MEMORY_COLUMNS]);
    expect(rows.map((r) => [r.t_s, r.kv_used_bytes, r.num_running, r.num_waiting])).toEqual([
      [0, 4 * MiB, 2, 0],
      [0.01, 6 * MiB, 2, 0],
      [0.02, 3 * MiB, 1, 1],
      [0.03, 3 * MiB, 1, 0],
      [0.04, 0, 0, 0],
    ]);
  });

  it("per-request rows carry vLLM's TTFT/TPOT/e2e definitions", () => {
    const rows = parse(csv.requests!, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual([...REQUEST_COLUMNS]);
    // req 1: TTFT = 0.01 − 0; TPOT = (0.04 − 0.01) / (3 − 1) = 0.015; e2e = 0.04.
    const r1 = rows[1];
    expect(Number(r1.ttft_s)).toBeCloseTo(0.01, 12);
    expect(Number(r1.tpot_s)).toBeCloseTo(0.015, 12);
    expect(Number(r1.e2e_s)).toBeCloseTo(0.04, 12);
    expect(r1.preemptions).toBe("1");
    expect(r1.rejected).toBe("false");
  });

  it("quotes fields per RFC 4180", () => {
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField(null)).toBe("");
    expect(csvField(NaN)).toBe("");
  });
});

describe("Prometheus export", () => {
  it("uses vLLM's names, types and buckets", async () => {
    const text = await toPrometheusText(handRecording(), { labels: { run_id: "r1" } });
    const l = 'model_name="test/tiny",engine="0",run_id="r1"';
    expect(text).toContain("# TYPE vllm:num_preemptions_total counter");
    expect(text).toContain(`vllm:num_preemptions_total{${l}} 1`);
    // 2 finished requests × 3 output tokens = 6; × 32 prompt tokens = 64.
    expect(text).toContain(`vllm:generation_tokens_total{${l}} 6`);
    expect(text).toContain(`vllm:prompt_tokens_total{${l}} 64`);
    expect(text).toContain(`vllm:request_success_total{${l},finished_reason="length"} 2`);
    expect(text).toContain(`vllm:prefix_cache_queries_total{${l}} 64`);
    // Final snapshot: no requests, 0 KV usage.
    expect(text).toContain(`vllm:num_requests_running{${l}} 0`);
    expect(text).toContain(`vllm:kv_cache_usage_perc{${l}} 0`);
    // TTFT of both = 0.01 s: in the 0.01 bucket (le is inclusive), not in 0.005.
    expect(text).toContain(`vllm:time_to_first_token_seconds_bucket{le="0.005",${l}} 0`);
    expect(text).toContain(`vllm:time_to_first_token_seconds_bucket{le="0.01",${l}} 2`);
    expect(text).toContain(`vllm:time_to_first_token_seconds_count{${l}} 2`);
    // e2e: 0.03 + 0.04 = 0.07.
    expect(text).toMatch(new RegExp(`vllm:e2e_request_latency_seconds_sum\\{${l.replace(/[{}]/g, "\\$&")}\\} 0\\.07`));
    expect(text).toContain('vllm:cache_config_info{model_name="test/tiny",engine="0",run_id="r1",block_size="16",cache_dtype="auto",gpu_memory_utilization="0.9",num_gpu_blocks="10",enable_prefix_caching="true"} 1');
  });

  it("snapshots gauges at a chosen time", async () => {
    const text = await toPrometheusText(handRecording(), { at: 0.025 });
    // At 25 ms the last snapshot is the 20 ms one: 1 running, 1 waiting, 3 of 10 blocks.
    expect(text).toContain('vllm:num_requests_waiting{model_name="test/tiny",engine="0"} 1');
    expect(text).toContain('vllm:kv_cache_usage_perc{model_name="test/tiny",engine="0"} 0.3');
    expect(text).toContain('vllm:num_preemptions_total{model_name="test/tiny",engine="0"} 1');
    expect(text).toContain('vllm:request_success_total{model_name="test/tiny",engine="0",finished_reason="length"} 0');
  });

  it("builds vLLM's 1-2-5 buckets", () => {
    expect(build125Buckets(128)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(build125Buckets(1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  });

  it("passes promtool check metrics when promtool is installed", async (ctx) => {
    let promtool = "";
    try {
      promtool = execFileSync("which", ["promtool"]).toString().trim();
    } catch {
      console.warn("promtool not installed: `promtool check metrics` skipped");
      ctx.skip();
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "vs-prom-"));
    const file = join(dir, "m.prom");
    writeFileSync(file, await toPrometheusText(handRecording()));
    // Lint warnings (exit 3) are about naming style; only a parse error (exit 1) fails.
    try {
      execFileSync("sh", ["-c", `${promtool} check metrics < ${file}`]);
    } catch (e) {
      expect((e as { status: number }).status).not.toBe(1);
    }
  });
});

describe("training / RL timelines", () => {
  const GiB = 2 ** 30;
  const tl: TimelineRecording = {
    kind: "timeline",
    label: "train",
    timeUnit: "event",
    samples: [
      { t: 0, label: "start", phase: "forward", components: { params: 2 * GiB, activations: 0 } },
      { t: 1, label: "layer 1", phase: "forward", components: { params: 2 * GiB, activations: 1 * GiB } },
      { t: 2, label: "loss", phase: "backward", components: { params: 2 * GiB, activations: 3 * GiB } },
      { t: 3, label: "end", phase: "optimizer", components: { params: 2 * GiB, activations: 0, grads: 2 * GiB } },
    ],
  };

  it("exports counters per component and phases as slices", () => {
    const f = JSON.parse(JSON.stringify(toPerfetto(tl)));
    expect(traceEventViolations(f)).toEqual([]);
    const phases = f.traceEvents.filter((e: { cat?: string }) => e.cat === "phase").map((e: { name: string; ts: number; dur: number }) => [e.name, e.ts, e.dur]);
    expect(phases).toEqual([["forward", 0, 2000], ["backward", 2000, 1000], ["optimizer", 3000, 1000]]);
    const total = f.traceEvents.filter((e: { name: string }) => e.name === "total memory").map((e: { args: { GiB: number } }) => e.args.GiB);
    expect(total).toEqual([2, 3, 5, 4]);
    const mem = f.traceEvents.filter((e: { name: string }) => e.name === "memory (GiB)").map((e: { args: Record<string, number> }) => e.args);
    expect(mem[3]).toEqual({ params: 2, activations: 0, grads: 2 });
  });

  it("CSV has a column per component and the total", () => {
    const rows = parse(toCsv(tl).memory, { columns: true, cast: true }) as Record<string, number | string>[];
    expect(Object.keys(rows[0])).toEqual(["event", "phase", "track", "label", "params_bytes", "activations_bytes", "grads_bytes", "total_bytes"]);
    expect(rows[2].total_bytes).toBe(5 * GiB);
    expect(rows[0].grads_bytes).toBe(0);
  });

  it("JSON summary and Prometheus report the peak (5 GiB at 'loss')", async () => {
    const s = toJsonSummary(tl);
    expect(s.peakBytes).toBe(5 * GiB);
    expect((s.peakSample as { label: string }).label).toBe("loss");
    const text = await toPrometheusText(tl);
    expect(text).toContain(`vramscope_peak_memory_bytes{run="train"} ${5 * GiB}`);
    expect(text).toContain(`vramscope_peak_memory_component_bytes{run="train",component="activations"} ${3 * GiB}`);
  });
});

describe("training and RL timeline adapters", () => {
  it("a real training timeline exports valid Perfetto with one sample per event and no double-counted total", async () => {
    const { trainingTimeline } = await import("../../sim/training/index.ts");
    const { trainingRecording } = await import("../../sim/export/timelines.ts");
    const { resolveModel } = await import("../../sim/model/registry.ts");
    const tl = trainingTimeline({ model: resolveModel("meta-llama/Llama-3.1-8B-Instruct"), seqLen: 512, microBatchSize: 1 } as never);
    const rec = trainingRecording(tl);
    expect(rec.samples).toHaveLength(tl.events.length);
    const f = JSON.parse(JSON.stringify(toPerfetto(rec)));
    expect(traceEventViolations(f)).toEqual([]);
    // The exporters' total at the peak event equals the timeline's own peak (bytes → GiB).
    const totals = f.traceEvents.filter((e: { name: string }) => e.name === "total memory").map((e: { args: { GiB: number } }) => e.args.GiB);
    expect(Math.max(...totals) * 2 ** 30).toBeCloseTo(tl.peakBytes, 0);
    expect(toJsonSummary(rec).peakBytes).toBe(tl.peakBytes);
  });
});

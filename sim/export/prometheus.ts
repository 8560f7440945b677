import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MemorySnapshot } from "../serving/types.ts";
import type { AnyRecording, Recording, TimelineRecording } from "./recording.ts";

/**
 * A Prometheus text-format snapshot of a run, with vLLM V1's metric names, types, help texts and histogram buckets
 * (`vllm/v1/metrics/loggers.py`, PrometheusStatLogger, ≈ v0.10; see /work/shared/vllm/README.md §4), so a dashboard
 * built for a real vLLM reads it unchanged. Formatting is prom-client's Registry (escaping, `_bucket`/`_sum`/
 * `_count`, `_total` on counters).
 *
 * Node-only: prom-client requires node's `util`, so this file is not re-exported from `sim/export/index.ts` (the
 * browser bundle never imports it); the CLI and server import it directly.
 *
 * Counters carry `_total` in their name, as Python's prometheus_client (which vLLM uses) exposes them; prom-client
 * does not append it.
 *
 * Semantics: counters and histograms cover the whole run (every finished request observed once); gauges are the
 * state at `at` (default: the last snapshot). `vllm:request_success_total` uses finished_reason="length" because
 * replays generate exactly the trace's output tokens, as vLLM benchmarks do with `ignore_eos`.
 */
export const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
export const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
export const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

/** vLLM's `build_1_2_5_buckets(max)`: 1, 2, 5, 10, 20, 50, … up to max. */
export function build125Buckets(max: number): number[] {
  const out: number[] = [];
  for (let exp = 0; ; exp++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** exp;
      if (v > max) return out;
      out.push(v);
    }
  }
}

export interface PrometheusOptions {
  /** Simulated time of the gauge snapshot; default the end of the run. */
  at?: number;
  /** Extra labels on every series (e.g. run_id). */
  labels?: Record<string, string>;
}

export async function toPrometheusText(rec: AnyRecording, opts: PrometheusOptions = {}): Promise<string> {
  const registry = new Registry();
  if (rec.kind === "serving") servingMetrics(registry, rec, opts);
  else timelineMetrics(registry, rec, opts);
  return registry.metrics();
}

function snapshotAt(snaps: readonly MemorySnapshot[], at: number | undefined): MemorySnapshot | null {
  if (snaps.length === 0) return null;
  if (at === undefined) return snaps[snaps.length - 1];
  let best: MemorySnapshot | null = null;
  for (const s of snaps) if (s.t <= at) best = s;
  return best ?? snaps[0];
}

function servingMetrics(registry: Registry, rec: Recording, opts: PrometheusOptions): void {
  const labels = { model_name: rec.config.model.name, engine: "0", ...(opts.labels ?? {}) };
  const names = Object.keys(labels);
  const registers = [registry];
  const gauge = (name: string, help: string, value: number) => {
    new Gauge({ name, help, labelNames: names, registers }).set(labels, value);
  };
  const counter = (name: string, help: string, value: number, extra: Record<string, string> = {}) => {
    new Counter({ name, help, labelNames: [...names, ...Object.keys(extra)], registers }).inc({ ...labels, ...extra }, value);
  };
  const histogram = (name: string, help: string, buckets: number[], values: number[]) => {
    const h = new Histogram({ name, help, labelNames: names, buckets, registers });
    const child = h.labels(labels);
    for (const v of values) child.observe(v);
  };

  const until = opts.at ?? Infinity;
  const snap = snapshotAt(rec.snapshots, opts.at);
  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", snap?.numRunning ?? 0);
  gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", snap?.numWaiting ?? 0);
  gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", snap?.kvUsage ?? 0);

  const c = rec.config;
  const info = new Gauge({
    name: "vllm:cache_config_info",
    help: "Information of the LLMEngine CacheConfig",
    labelNames: [...names, "block_size", "cache_dtype", "gpu_memory_utilization", "num_gpu_blocks", "enable_prefix_caching"],
    registers,
  });
  info.set(
    {
      ...labels,
      block_size: String(c.blockSize),
      cache_dtype: c.kvCacheDtype,
      gpu_memory_utilization: String(c.gpuMemoryUtilization),
      num_gpu_blocks: String(rec.budget.numGpuBlocks),
      enable_prefix_caching: String(c.enablePrefixCaching),
    },
    1,
  );

  const done = rec.records.filter((r) => !r.rejected && r.finishTime !== null && r.finishTime <= until && r.firstTokenTime !== null);
  let preemptions = 0;
  for (const e of rec.events) if (e.type === "preempted" && e.t <= until) preemptions++;
  counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", preemptions);
  counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", done.reduce((a, r) => a + r.promptTokens, 0));
  counter("vllm:generation_tokens_total", "Number of generation tokens processed.", done.reduce((a, r) => a + r.outputTokens, 0));
  counter("vllm:request_success_total", "Count of successfully processed requests.", done.length, { finished_reason: "length" });
  const whole = opts.at === undefined;
  // Prefix-cache totals exist only for the whole run in the summary.
  if (whole) {
    counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", rec.summary.prefixCacheQueries);
    counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", rec.summary.prefixCacheHitTokens);
  }

  const maxLen = c.maxModelLen;
  histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", build125Buckets(maxLen), done.map((r) => r.promptTokens));
  histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", build125Buckets(maxLen), done.map((r) => r.outputTokens));
  histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_BUCKETS, done.map((r) => r.firstTokenTime! - r.arrival));
  histogram(
    "vllm:request_time_per_output_token_seconds",
    "Histogram of time_per_output_token_seconds per request.",
    TPOT_BUCKETS,
    done.filter((r) => r.outputTokens > 1).map((r) => (r.finishTime! - r.firstTokenTime!) / (r.outputTokens - 1)),
  );
  histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQUEST_LATENCY_BUCKETS, done.map((r) => r.finishTime! - r.arrival));
  const sched = done.filter((r) => r.firstScheduledTime !== null);
  histogram(
    "vllm:request_queue_time_seconds",
    "Histogram of time spent in WAITING phase for request.",
    REQUEST_LATENCY_BUCKETS,
    sched.map((r) => r.firstScheduledTime! - r.arrival),
  );
  histogram(
    "vllm:request_inference_time_seconds",
    "Histogram of time spent in RUNNING phase for request.",
    REQUEST_LATENCY_BUCKETS,
    sched.map((r) => r.finishTime! - r.firstScheduledTime!),
  );
  histogram(
    "vllm:request_prefill_time_seconds",
    "Histogram of time spent in PREFILL phase for request.",
    REQUEST_LATENCY_BUCKETS,
    sched.map((r) => r.firstTokenTime! - r.firstScheduledTime!),
  );
  histogram("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", REQUEST_LATENCY_BUCKETS, done.map((r) => r.finishTime! - r.firstTokenTime!));
}

/** Training / RL have no vLLM equivalent: per-component bytes at the peak sample, under vramscope's own prefix. */
function timelineMetrics(registry: Registry, rec: TimelineRecording, opts: PrometheusOptions): void {
  const labels = { run: rec.label, ...(opts.labels ?? {}) };
  const names = Object.keys(labels);
  let peak = 0;
  let peakSample = rec.samples[0];
  for (const s of rec.samples) {
    const total = Object.values(s.components).reduce((a, b) => a + b, 0);
    if (total > peak) {
      peak = total;
      peakSample = s;
    }
  }
  new Gauge({ name: "vramscope_peak_memory_bytes", help: "Peak device memory over the timeline, bytes.", labelNames: names, registers: [registry] }).set(
    labels,
    peak,
  );
  const g = new Gauge({
    name: "vramscope_peak_memory_component_bytes",
    help: "Device memory by component at the peak sample, bytes.",
    labelNames: [...names, "component"],
    registers: [registry],
  });
  if (peakSample) for (const [k, v] of Object.entries(peakSample.components)) g.set({ ...labels, component: k }, v);
}

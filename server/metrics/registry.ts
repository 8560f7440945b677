/**
 * `/metrics`: each run exposed the way a vLLM server exposes itself (vllm/v1/metrics/loggers.py,
 * `PrometheusStatLogger`, ≈v0.10), so a Grafana dashboard built for vLLM can watch a simulated server. Same metric
 * names, meanings and buckets; labels `model_name` and `engine` as vLLM's, plus `run_id` to tell runs apart.
 *
 * Meanings (as vLLM's): `kv_cache_usage_perc` is a fraction 0..1 (referenced blocks / usable blocks) despite the
 * name; `num_requests_waiting` includes preempted requests; `prefix_cache_queries`/`hits` count tokens (prompt
 * tokens looked up / tokens found cached); latencies are simulated seconds. Counters are scraped with `_total`.
 *
 * A backward seek re-simulates from the start, so the run's series are reset (a counter reset, as after a
 * restart, which Prometheus's rate() handles). Series of a deleted run are removed.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MemorySnapshot } from "../../sim/serving/types.ts";
import type { MetricsDelta } from "../runs/worker-messages.ts";

/** vLLM's TTFT buckets (loggers.py `histogram_time_to_first_token`). */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
/** vLLM's `request_latency_buckets` (e2e, queue, prefill, decode, inference time). */
export const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];
/** Tokens per engine step (`vllm:iteration_tokens_total`); vLLM derives these from cudagraph sizes. */
export const ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

const RUN_LABELS = ["model_name", "engine", "run_id"] as const;
type RunLabels = { model_name: string; engine: string; run_id: string };

export interface CacheConfigInfo {
  blockSize: number;
  numGpuBlocks: number;
  gpuMemoryUtilization: number;
  enablePrefixCaching: boolean;
  cacheDtype: string;
}

/** Histogram values observed per slice of a big delta (about 20–40 ms of the main thread). */
const OBSERVE_SLICE = 20_000;

/** Observes values[from, to) through one labelled child (not a label lookup per value). */
function observeRange(h: Histogram<string>, labels: RunLabels, values: number[], from: number, to: number): void {
  if (to <= from) return;
  const child = h.labels(labels);
  for (let i = from; i < to; i++) child.observe(values[i]);
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly running: Gauge;
  private readonly waiting: Gauge;
  private readonly kvUsage: Gauge;
  private readonly preemptions: Counter;
  private readonly prefixQueries: Counter;
  private readonly prefixHits: Counter;
  private readonly promptTokens: Counter;
  private readonly generationTokens: Counter;
  private readonly requestSuccess: Counter;
  private readonly ttft: Histogram;
  private readonly e2e: Histogram;
  private readonly queueTime: Histogram;
  private readonly iterationTokens: Histogram;
  private readonly cacheConfig: Gauge;
  private readonly runsByState: Gauge;
  private readonly streamClients: Gauge;
  private readonly labelsOf = new Map<string, RunLabels>();
  private readonly generations = new Map<string, number>();
  /** Histogram observations being applied in slices (record() of a big delta). */
  private pendingObservations: Promise<void> = Promise.resolve();
  private readonly cacheLabelsOf = new Map<string, Record<string, string>>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    const r = [this.registry];
    const labelNames = RUN_LABELS;
    this.running = new Gauge({ name: "vllm:num_requests_running", help: "Number of requests in model execution batches.", labelNames, registers: r });
    this.waiting = new Gauge({ name: "vllm:num_requests_waiting", help: "Number of requests waiting to be processed.", labelNames, registers: r });
    this.kvUsage = new Gauge({ name: "vllm:kv_cache_usage_perc", help: "KV-cache usage. 1 means 100 percent usage.", labelNames, registers: r });
    this.preemptions = new Counter({ name: "vllm:num_preemptions_total", help: "Cumulative number of preemption from the engine.", labelNames, registers: r });
    this.prefixQueries = new Counter({ name: "vllm:prefix_cache_queries_total", help: "Prefix cache queries, in terms of number of queried tokens.", labelNames, registers: r });
    this.prefixHits = new Counter({ name: "vllm:prefix_cache_hits_total", help: "Prefix cache hits, in terms of number of cached tokens.", labelNames, registers: r });
    this.promptTokens = new Counter({ name: "vllm:prompt_tokens_total", help: "Number of prefill tokens processed.", labelNames, registers: r });
    this.generationTokens = new Counter({ name: "vllm:generation_tokens_total", help: "Number of generation tokens processed.", labelNames, registers: r });
    this.requestSuccess = new Counter({
      name: "vllm:request_success_total",
      help: "Count of successfully processed requests.",
      labelNames: [...labelNames, "finished_reason"],
      registers: r,
    });
    this.ttft = new Histogram({ name: "vllm:time_to_first_token_seconds", help: "Histogram of time to first token in seconds.", labelNames, buckets: TTFT_BUCKETS, registers: r });
    this.e2e = new Histogram({ name: "vllm:e2e_request_latency_seconds", help: "Histogram of e2e request latency in seconds.", labelNames, buckets: REQUEST_LATENCY_BUCKETS, registers: r });
    this.queueTime = new Histogram({ name: "vllm:request_queue_time_seconds", help: "Histogram of time spent in WAITING phase for request.", labelNames, buckets: REQUEST_LATENCY_BUCKETS, registers: r });
    this.iterationTokens = new Histogram({ name: "vllm:iteration_tokens_total", help: "Histogram of number of tokens per engine_step.", labelNames, buckets: ITERATION_TOKEN_BUCKETS, registers: r });
    this.cacheConfig = new Gauge({
      name: "vllm:cache_config_info",
      help: "Information of the LLMEngine CacheConfig",
      labelNames: [...labelNames, "block_size", "num_gpu_blocks", "gpu_memory_utilization", "enable_prefix_caching", "cache_dtype"],
      registers: r,
    });
    this.runsByState = new Gauge({ name: "vramscope_runs", help: "Runs known to the server, by lifecycle state.", labelNames: ["state"], registers: r });
    this.streamClients = new Gauge({ name: "vramscope_stream_clients", help: "Open WebSocket stream connections.", registers: r });
    // prom-client's default process metrics include gauges named *_total, which promtool flags; RSS and heap are
    // what an operator of this server needs (RSS bounded under load is one of the load test's checks).
    if (opts.processMetrics !== false) {
      new Gauge({
        name: "vramscope_process_resident_memory_bytes",
        help: "Resident set size of the server process (main thread; workers share it), bytes.",
        registers: r,
        collect() {
          this.set(process.memoryUsage().rss);
        },
      });
      new Gauge({
        name: "vramscope_process_heap_used_bytes",
        help: "V8 heap used by the main thread, bytes.",
        registers: r,
        collect() {
          this.set(process.memoryUsage().heapUsed);
        },
      });
    }
  }

  /** Declares a run's series (zeroed, so a dashboard sees the run before its first request). */
  addRun(runId: string, modelName: string, cache?: CacheConfigInfo): void {
    const labels: RunLabels = { model_name: modelName, engine: "0", run_id: runId };
    this.labelsOf.set(runId, labels);
    for (const g of [this.running, this.waiting, this.kvUsage]) g.set(labels, 0);
    for (const c of [this.preemptions, this.prefixQueries, this.prefixHits, this.promptTokens, this.generationTokens]) c.inc(labels, 0);
    this.requestSuccess.inc({ ...labels, finished_reason: "length" }, 0);
    if (cache) {
      const cl = {
        ...labels,
        block_size: String(cache.blockSize),
        num_gpu_blocks: String(cache.numGpuBlocks),
        gpu_memory_utilization: String(cache.gpuMemoryUtilization),
        enable_prefix_caching: String(cache.enablePrefixCaching),
        cache_dtype: cache.cacheDtype,
      };
      this.cacheLabelsOf.set(runId, cl);
      this.cacheConfig.set(cl, 1);
    }
  }

  /** Applies one worker batch. */
  record(runId: string, delta: MetricsDelta, last: MemorySnapshot | null): void {
    const labels = this.labelsOf.get(runId);
    if (!labels) return;
    if (last) {
      this.running.set(labels, last.numRunning);
      this.waiting.set(labels, last.numWaiting);
      this.kvUsage.set(labels, last.kvUsage);
    }
    if (delta.preemptions) this.preemptions.inc(labels, delta.preemptions);
    if (delta.prefixQueries) this.prefixQueries.inc(labels, delta.prefixQueries);
    if (delta.prefixHits) this.prefixHits.inc(labels, delta.prefixHits);
    if (delta.promptTokens) this.promptTokens.inc(labels, delta.promptTokens);
    if (delta.generationTokens) this.generationTokens.inc(labels, delta.generationTokens);
    // Simulated requests end when they reach their trace output length (as `vllm bench` with ignore_eos).
    if (delta.requestSuccess) this.requestSuccess.inc({ ...labels, finished_reason: "length" }, delta.requestSuccess);
    const series: [Histogram<string>, number[]][] = [
      [this.ttft, delta.ttft],
      [this.e2e, delta.e2e],
      [this.queueTime, delta.queueTime],
      [this.iterationTokens, delta.iterationTokens],
    ];
    const total = series.reduce((n, [, v]) => n + v.length, 0);
    if (total <= OBSERVE_SLICE) {
      for (const [h, values] of series) observeRange(h, labels, values, 0, values.length);
      return;
    }
    // A rewind re-records every request and step so far (hundreds of thousands of values on a long run): in slices,
    // so the other runs' streams do not stall; a scrape waits for them (text()), and a reset abandons them.
    const gen = this.generationOf(runId);
    this.pendingObservations = this.pendingObservations.then(async () => {
      for (const [h, values] of series)
        for (let i = 0; i < values.length; i += OBSERVE_SLICE) {
          if (this.generationOf(runId) !== gen) return;
          observeRange(h, labels, values, i, Math.min(values.length, i + OBSERVE_SLICE));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
    });
  }

  /** A rewind: the run's series restart from zero. */
  resetRun(runId: string): void {
    const labels = this.labelsOf.get(runId);
    if (!labels) return;
    const cache = this.cacheLabelsOf.get(runId);
    this.removeSeries(runId);
    this.labelsOf.set(runId, labels);
    this.addRun(runId, labels.model_name);
    if (cache) {
      this.cacheLabelsOf.set(runId, cache);
      this.cacheConfig.set(cache, 1);
    }
  }

  removeRun(runId: string): void {
    this.removeSeries(runId);
  }

  setRunStates(counts: Record<string, number>): void {
    this.runsByState.reset();
    for (const [state, n] of Object.entries(counts)) this.runsByState.set({ state }, n);
  }

  setStreamClients(n: number): void {
    this.streamClients.set(n);
  }

  /** Prometheus text, once every recorded delta has been observed (never a half-recorded rewind). */
  async text(): Promise<string> {
    await this.pendingObservations;
    return this.registry.metrics();
  }

  /** Bumped whenever a run's series are removed (reset or forgotten): observations queued before are dropped. */
  private generationOf(runId: string): number {
    return this.generations.get(runId) ?? 0;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private removeSeries(runId: string): void {
    const labels = this.labelsOf.get(runId);
    if (!labels) return;
    this.generations.set(runId, this.generationOf(runId) + 1);
    for (const m of [this.running, this.waiting, this.kvUsage, this.preemptions, this.prefixQueries, this.prefixHits, this.promptTokens, this.generationTokens, this.ttft, this.e2e, this.queueTime, this.iterationTokens])
      m.remove(labels);
    this.requestSuccess.remove({ ...labels, finished_reason: "length" });
    const cache = this.cacheLabelsOf.get(runId);
    if (cache) this.cacheConfig.remove(cache);
    this.labelsOf.delete(runId);
    this.cacheLabelsOf.delete(runId);
  }
}

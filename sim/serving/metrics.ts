import type { Percentiles, ReplaySummary } from "./types.ts";

/** Samples per chunk of {@link Samples}. */
const CHUNK = 4096;

/**
 * A growable float array: percentiles need every sample, and 8 B per sample keeps a 1M-request replay small. Stored
 * in fixed chunks because full chunks never change again: engine copies (checkpoints, ServingEngine.clone) share
 * them and copy only the last, so a run's checkpoints do not each hold every latency so far.
 */
export class Samples {
  private readonly full: Float64Array[] = [];
  private tail = new Float64Array(CHUNK);
  private tailLength = 0;
  length = 0;
  push(v: number): void {
    this.tail[this.tailLength++] = v;
    this.length++;
    if (this.tailLength === CHUNK) {
      this.full.push(this.tail);
      this.tail = new Float64Array(CHUNK);
      this.tailLength = 0;
    }
  }
  /** Every sample, in order (a fresh array). */
  values(): Float64Array {
    const out = new Float64Array(this.length);
    this.full.forEach((c, k) => out.set(c, k * CHUNK));
    out.set(this.tail.subarray(0, this.tailLength), this.full.length * CHUNK);
    return out;
  }
  /** The chunks that can no longer change. */
  sealedChunks(): readonly Float64Array[] {
    return this.full;
  }
}

/**
 * Percentiles by linear interpolation between closest ranks (numpy's default, which vLLM's benchmark uses:
 * `np.percentile`). Empty → zeros.
 */
export function percentiles(samples: Float64Array): Percentiles {
  const n = samples.length;
  if (n === 0) return { p50: 0, p90: 0, p99: 0, mean: 0 };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => {
    const pos = (n - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sum / n };
}

/**
 * Serving metrics with vLLM's benchmark definitions: TTFT = first token − arrival; TPOT = (e2e − TTFT) /
 * (output tokens − 1) per request with more than one output token; e2e = finish − arrival; queue time = first
 * scheduled − arrival; KV usage = blocks referenced by live requests ÷ usable blocks (vLLM `kv_cache_usage_perc`).
 */
export class MetricsCollector {
  readonly ttft = new Samples();
  readonly tpot = new Samples();
  readonly e2e = new Samples();
  readonly queueTime = new Samples();

  /** Sample chunks that no longer change (shared by engine copies). */
  sealedChunks(): Float64Array[] {
    return [this.ttft, this.tpot, this.e2e, this.queueTime].flatMap((s) => [...s.sealedChunks()]);
  }
  requests = 0;
  completed = 0;
  rejected = 0;
  inputTokens = 0;
  outputTokens = 0;
  engineSteps = 0;
  peakKvUsage = 0;
  private kvUsageTime = 0;
  private busyTime = 0;
  peakRunning = 0;
  peakWaiting = 0;
  firstArrival = Number.POSITIVE_INFINITY;
  lastFinish = 0;

  onArrival(t: number): void {
    this.requests++;
    if (t < this.firstArrival) this.firstArrival = t;
  }

  onStep(start: number, end: number, kvUsage: number, running: number, waiting: number): void {
    this.engineSteps++;
    if (kvUsage > this.peakKvUsage) this.peakKvUsage = kvUsage;
    this.kvUsageTime += kvUsage * (end - start);
    this.busyTime += end - start;
    if (running > this.peakRunning) this.peakRunning = running;
    if (waiting > this.peakWaiting) this.peakWaiting = waiting;
  }

  onFinish(r: {
    arrival: number;
    firstScheduledTime: number | null;
    firstTokenTime: number | null;
    finishTime: number | null;
    numPromptTokens: number;
    numOutputTokens: number;
  }): void {
    this.completed++;
    this.inputTokens += r.numPromptTokens;
    this.outputTokens += r.numOutputTokens;
    const ttft = r.firstTokenTime! - r.arrival;
    const e2e = r.finishTime! - r.arrival;
    this.ttft.push(ttft);
    this.e2e.push(e2e);
    this.queueTime.push(r.firstScheduledTime! - r.arrival);
    if (r.numOutputTokens > 1) this.tpot.push((e2e - ttft) / (r.numOutputTokens - 1));
    if (r.finishTime! > this.lastFinish) this.lastFinish = r.finishTime!;
  }

  summary(extra: {
    preemptions: number;
    recomputedTokens: number;
    prefixCacheQueries: number;
    prefixCacheHitTokens: number;
    numGpuBlocks: number;
    now: number;
  }): ReplaySummary {
    const start = Number.isFinite(this.firstArrival) ? this.firstArrival : 0;
    const duration = Math.max(0, Math.max(this.lastFinish, extra.now) - start);
    const per = (x: number) => (duration > 0 ? x / duration : 0);
    return {
      requests: this.requests,
      completed: this.completed,
      rejected: this.rejected,
      preemptions: extra.preemptions,
      recomputedTokens: extra.recomputedTokens,
      prefixCacheQueries: extra.prefixCacheQueries,
      prefixCacheHitTokens: extra.prefixCacheHitTokens,
      prefixCacheHitRate: extra.prefixCacheQueries > 0 ? extra.prefixCacheHitTokens / extra.prefixCacheQueries : 0,
      ttft: percentiles(this.ttft.values()),
      tpot: percentiles(this.tpot.values()),
      e2e: percentiles(this.e2e.values()),
      queueTime: percentiles(this.queueTime.values()),
      throughput: {
        requestsPerS: per(this.completed),
        inputTokensPerS: per(this.inputTokens),
        outputTokensPerS: per(this.outputTokens),
      },
      simulatedSeconds: duration,
      engineSteps: this.engineSteps,
      peakKvUsage: this.peakKvUsage,
      meanKvUsage: this.busyTime > 0 ? this.kvUsageTime / this.busyTime : 0,
      numGpuBlocks: extra.numGpuBlocks,
      peakRunning: this.peakRunning,
      peakWaiting: this.peakWaiting,
    };
  }
}

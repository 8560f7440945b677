import type { TraceReport } from "./report.ts";
import type { TraceRequest } from "./types.ts";

/** Sum, mean and nearest-rank percentiles of a token-count column. */
export interface LengthStats {
  sum: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What `vramscope trace inspect --json` prints: the facts a user checks before replaying a trace. */
export interface TraceSummary {
  format: string;
  requests: number;
  firstArrival: number;
  lastArrival: number;
  /** Last arrival − first arrival, seconds. */
  durationSeconds: number;
  /** requests / durationSeconds (0 when the duration is 0). */
  meanRate: number;
  promptTokens: LengthStats;
  outputTokens: LengthStats;
  skippedLines: { count: number; reasons: { location: string; field?: string; message: string }[] };
  droppedRows: number;
  filteredRows: number;
  overMaxModelLen: number;
  sorted: boolean;
  sessions: number;
  /**
   * Share of prompt hash blocks whose id already appeared earlier in the trace (each id occurrence counts once,
   * whatever its hashBlockTokens); null when the trace has no hash ids.
   */
  prefixReuseRatio: number | null;
  hashBlocks: { total: number; reused: number };
  /** Requests per bucket of `bucketSeconds`, from t = 0. */
  rateOverTime: { bucketSeconds: number; counts: number[] };
}

const NICE_BUCKETS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800];
const MAX_BASE_BINS = 1 << 20;

/**
 * Streaming statistics: memory is bounded by the number of distinct token counts (histograms, exact percentiles),
 * the arrival histogram (≤ 2^20 bins; bins double in width when a trace is longer) and, for hash-id traces, the set
 * of ids seen.
 */
export class TraceStats {
  private n = 0;
  private first = Infinity;
  private last = -Infinity;
  private prompt = new Map<number, number>();
  private output = new Map<number, number>();
  private seenIds = new Set<number>();
  private hashTotal = 0;
  private hashReused = 0;
  private sessions = new Set<string>();
  private bins: number[] = [];
  private binWidth = 1;

  add(r: TraceRequest): void {
    this.n++;
    if (r.arrival < this.first) this.first = r.arrival;
    if (r.arrival > this.last) this.last = r.arrival;
    this.prompt.set(r.promptTokens, (this.prompt.get(r.promptTokens) ?? 0) + 1);
    this.output.set(r.outputTokens, (this.output.get(r.outputTokens) ?? 0) + 1);
    if (r.hashIds) {
      for (const id of r.hashIds) {
        this.hashTotal++;
        if (this.seenIds.has(id)) this.hashReused++;
        else this.seenIds.add(id);
      }
    }
    if (r.sessionId !== undefined) this.sessions.add(r.sessionId);
    let b = Math.floor(r.arrival / this.binWidth);
    while (b >= MAX_BASE_BINS) {
      this.coarsen();
      b = Math.floor(r.arrival / this.binWidth);
    }
    while (this.bins.length <= b) this.bins.push(0);
    this.bins[b]++;
  }

  private coarsen(): void {
    const next: number[] = [];
    for (let i = 0; i < this.bins.length; i += 2) next.push(this.bins[i] + (this.bins[i + 1] ?? 0));
    this.bins = next;
    this.binWidth *= 2;
  }

  summary(report: TraceReport, bucketSeconds?: number): TraceSummary {
    const duration = this.n > 0 ? this.last - this.first : 0;
    const span = this.bins.length * this.binWidth;
    let bucket = bucketSeconds ?? NICE_BUCKETS.find((w) => w % this.binWidth === 0 && span / w <= 60) ?? this.binWidth * Math.ceil(this.bins.length / 60);
    if (bucket % this.binWidth !== 0) bucket = this.binWidth * Math.ceil(bucket / this.binWidth);
    const per = bucket / this.binWidth;
    const counts: number[] = [];
    for (let i = 0; i < this.bins.length; i += per) {
      let c = 0;
      for (let j = i; j < i + per && j < this.bins.length; j++) c += this.bins[j];
      counts.push(c);
    }
    return {
      format: report.format,
      requests: this.n,
      firstArrival: this.n ? this.first : 0,
      lastArrival: this.n ? this.last : 0,
      durationSeconds: duration,
      meanRate: duration > 0 ? this.n / duration : 0,
      promptTokens: lengthStats(this.prompt, this.n),
      outputTokens: lengthStats(this.output, this.n),
      skippedLines: { count: report.skipped, reasons: report.issues.slice(0, 5) },
      droppedRows: report.dropped ?? 0,
      filteredRows: report.filtered ?? 0,
      overMaxModelLen: report.overMaxModelLen ?? 0,
      sorted: report.sorted ?? true,
      sessions: this.sessions.size,
      prefixReuseRatio: this.hashTotal > 0 ? this.hashReused / this.hashTotal : null,
      hashBlocks: { total: this.hashTotal, reused: this.hashReused },
      rateOverTime: { bucketSeconds: bucket, counts },
    };
  }
}

/** Nearest-rank percentile: the value at rank ⌈p·n⌉ (1-based) of the sorted values. */
export function lengthStats(hist: Map<number, number>, n: number): LengthStats {
  if (n === 0) return { sum: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const keys = [...hist.keys()].sort((a, b) => a - b);
  let sum = 0;
  for (const k of keys) sum += k * hist.get(k)!;
  const ranks = [50, 90, 99].map((p) => Math.max(1, Math.ceil((p * n) / 100)));
  const out: number[] = [];
  let cum = 0, ri = 0;
  for (const k of keys) {
    cum += hist.get(k)!;
    while (ri < ranks.length && cum >= ranks[ri]) {
      out.push(k);
      ri++;
    }
  }
  return { sum, mean: sum / n, min: keys[0], p50: out[0], p90: out[1], p99: out[2], max: keys[keys.length - 1] };
}

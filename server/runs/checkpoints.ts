/**
 * A live run's checkpoints, kept by its worker: copies of the simulation (Simulation.checkpoint) taken while it
 * streams (after a batch is posted, and inside long ops), so a backward seek re-simulates from the nearest earlier
 * copy instead of from t = 0.
 *
 * Spacing follows the work, not the clock: one checkpoint per `intervalMs` of simulation compute, so a seek
 * re-simulates at most about that much. When the list is full, every other checkpoint is dropped and the interval
 * doubles (CKPT-1: at most `max` copies, spread over the whole run). Copying costs about 1 µs per live object (30 ms
 * with 4,000 queued requests), so a run with a long queue is copied less often (CKPT-2). A copy holds the live
 * requests, the block pool, and the last chunk of each latency series (full chunks are shared between copies).
 *
 * What a rewind must also get back besides the simulation (the worker's side of the timeline):
 * - the collector's per-request bookkeeping (arrival and prompt of each live request, for TTFT and queue time);
 * - the metrics reported from t = 0 to the checkpoint, because a rewind re-reports /metrics from zero (the host
 *   resets the run's series). Those are append-only along one timeline, so a checkpoint keeps only their lengths and
 *   running sums ({@link ReportedMetrics}); determinism makes them valid after any number of rewinds.
 */
import type { MemorySnapshot } from "../../sim/serving/types.ts";
import { emptyMetrics, type MetricsDelta } from "./worker-messages.ts";

/** Arrays of MetricsDelta (append-only along a timeline) and the sums (the rest). */
const ARRAYS = ["ttft", "e2e", "queueTime", "iterationTokens"] as const;
const SUMS = ["preemptions", "prefixQueries", "prefixHits", "promptTokens", "generationTokens", "requestSuccess"] as const;

export type MetricsMark = Record<(typeof ARRAYS)[number] | (typeof SUMS)[number], number>;

/** Every metric delta reported to the host on the current timeline, summed. */
export class ReportedMetrics {
  private total: MetricsDelta = emptyMetrics();

  add(d: MetricsDelta): void {
    for (const k of SUMS) this.total[k] += d[k];
    for (const k of ARRAYS) for (const v of d[k]) this.total[k].push(v);
  }

  /** A rewind re-reported everything from t = 0 in one delta: that is now the whole timeline. */
  replace(d: MetricsDelta): void {
    this.total = emptyMetrics();
    this.add(d);
  }

  /** Where the record stands, counting `pending` (collected, to be reported next) as if already added. */
  mark(pending?: MetricsDelta): MetricsMark {
    const m = {} as MetricsMark;
    for (const k of SUMS) m[k] = this.total[k] + (pending ? pending[k] : 0);
    for (const k of ARRAYS) m[k] = this.total[k].length + (pending ? pending[k].length : 0);
    return m;
  }

  /** What had been reported when `mark` was taken (a fresh delta: the caller adds to it). */
  upTo(mark: MetricsMark): MetricsDelta {
    const d = emptyMetrics();
    for (const k of SUMS) d[k] = mark[k];
    for (const k of ARRAYS) {
      // A mark taken inside an op counts values reported with that op's batch; a rewind before that batch is posted
      // is impossible (ops run one at a time), so the record always reaches the mark.
      if (this.total[k].length < mark[k]) throw new Error(`checkpoint mark beyond the reported ${k} (${mark[k]} > ${this.total[k].length})`);
      d[k] = this.total[k].slice(0, mark[k]);
    }
    return d;
  }
}

export interface Checkpoint {
  /** Simulated time of the copy. */
  t: number;
  sim: unknown;
  /** Estimated size of `sim` (Simulation.checkpoint). */
  bytes: number;
  /** The collector's per-request bookkeeping (BatchCollector.saveRequests). */
  requests: unknown;
  last: MemorySnapshot | null;
  reported: MetricsMark;
}

/** A copy may cost at most this share of the worker's time (CKPT-2): copies of a run with a long queue are slow. */
const MAX_OVERHEAD = 0.1;

export class Checkpoints {
  private list: Checkpoint[] = [];
  private nextAt = 0;

  constructor(
    private intervalMs = 250,
    readonly max = 24,
    /** CKPT-3: the copies together stay under this (a run with a queue of tens of thousands keeps fewer). */
    readonly maxBytes = 256 * 2 ** 20,
  ) {}

  /** Estimated bytes of the copies kept. */
  get bytes(): number {
    let b = 0;
    for (const cp of this.list) b += cp.bytes;
    return b;
  }

  get size(): number {
    return this.list.length;
  }

  /** Whether `busyMs` (the worker's compute so far, copies included) has reached the next checkpoint. */
  due(busyMs: number): boolean {
    return busyMs >= this.nextAt;
  }

  /** Keeps `cp`, which took `costMs` to copy; the next one is due after the interval, or 10 × the cost if longer. */
  add(cp: Checkpoint, busyMs: number, costMs: number): void {
    // After a rewind the timeline passes times it has checkpoints for already (still valid: it is deterministic).
    const at = this.atOrBefore(cp.t);
    if (!at || at.t !== cp.t) this.list.splice(at ? this.list.indexOf(at) + 1 : 0, 0, cp);
    while (this.list.length > this.max || (this.list.length > 1 && this.bytes > this.maxBytes)) {
      this.list = this.list.filter((_, i) => i % 2 === 0);
      this.intervalMs *= 2;
    }
    if (this.bytes > this.maxBytes) this.list = []; // one copy alone is over budget: keep none
    this.nextAt = busyMs + Math.max(this.intervalMs, costMs / MAX_OVERHEAD);
  }

  /** The latest checkpoint at or before `t`, or null (re-simulate from the start). */
  atOrBefore(t: number): Checkpoint | null {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? this.list[lo - 1] : null;
  }

  clear(): void {
    this.list = [];
  }
}

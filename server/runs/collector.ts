/**
 * Worker-side accumulator between two replies to the host: engine events, the memory series, per-frame counts and
 * metric deltas. Counts and metrics see every event whatever the viewers subscribed to (PROTO-2, and /metrics must
 * not depend on who is watching); events are kept only when `streaming` (false during a silent re-simulation after
 * a backward seek, whose events the viewer already has).
 *
 * Why here and not in the engine: the engine's job is one event stream; turning it into vLLM's Prometheus metrics
 * (TTFT = first token − arrival, queue time = first admission − arrival) is the server's. Counters the engine keeps
 * itself (prefix-cache queries/hits, preemptions) replace these event-derived ones in the worker (Simulation.counters).
 */
import type { EngineEvent, MemorySnapshot } from "../../sim/serving/types.ts";
import type { FrameCounts } from "../protocol.ts";
import { downsampleSnapshots } from "../stream/downsample.ts";
import { emptyCounts, emptyMetrics, type MetricsDelta } from "./worker-messages.ts";

/** Memory points per worker reply; a reply covers ≤ one frame period, so this is already more than a screen needs. */
export const MAX_SNAPSHOTS_PER_BATCH = 240;

interface Pending {
  arrival: number;
  promptTokens: number;
  admitted: boolean;
}

export class BatchCollector {
  streaming = true;
  /**
   * Whether per-block events are kept. An engine built with block detail keeps emitting them after the last viewer
   * that wanted them has gone; dropping them here spares the copy to the main thread (counts still see them).
   */
  keepBlocks = true;
  events: EngineEvent[] = [];
  snapshots: MemorySnapshot[] = [];
  counts: FrameCounts = emptyCounts();
  metrics: MetricsDelta = emptyMetrics();
  /** The engine emits `memory` events itself (then the driver does not take snapshots per step). */
  sawMemoryEvent = false;
  last: MemorySnapshot | null = null;
  private readonly requests = new Map<number, Pending>();

  readonly onEvent = (e: EngineEvent): void => {
    this.account(e);
    if (e.type === "memory") {
      this.sawMemoryEvent = true;
      this.addSnapshot(e.snapshot);
      return;
    }
    if (!this.streaming) return;
    if (!this.keepBlocks && e.type.startsWith("blocks_")) return;
    this.events.push(e);
  };

  addSnapshot(s: MemorySnapshot): void {
    this.last = s;
    if (this.streaming) this.snapshots.push(s);
  }

  /** Empties the accumulator; the memory series is downsampled to {@link MAX_SNAPSHOTS_PER_BATCH}. */
  take(): {
    events: EngineEvent[];
    snapshots: MemorySnapshot[];
    droppedSamples: number;
    counts: FrameCounts;
    metrics: MetricsDelta;
  } {
    const { kept, dropped } = downsampleSnapshots(this.snapshots, MAX_SNAPSHOTS_PER_BATCH);
    const out = { events: this.events, snapshots: kept, droppedSamples: dropped, counts: this.counts, metrics: this.metrics };
    this.events = [];
    this.snapshots = [];
    this.counts = emptyCounts();
    this.metrics = emptyMetrics();
    return out;
  }

  /** A copy of the per-request bookkeeping, for a checkpoint (server/runs/checkpoints.ts). */
  saveRequests(): unknown {
    return new Map([...this.requests].map(([id, r]) => [id, { ...r }]));
  }

  /** Back to a checkpoint's bookkeeping; the accumulator is emptied. */
  restoreRequests(saved: unknown): void {
    this.requests.clear();
    for (const [id, r] of saved as Map<number, Pending>) this.requests.set(id, { ...r });
    this.take();
  }

  private account(e: EngineEvent): void {
    const c = this.counts;
    const m = this.metrics;
    switch (e.type) {
      case "arrival":
        c.arrivals++;
        this.requests.set(e.reqId, { arrival: e.t, promptTokens: e.promptTokens, admitted: false });
        break;
      case "rejected":
        c.rejected++;
        this.requests.delete(e.reqId);
        break;
      case "admitted": {
        c.admitted++;
        const r = this.requests.get(e.reqId);
        // vLLM counts prefix-cache queries in prompt tokens looked up, hits in cached tokens (loggers.py).
        if (r) {
          m.prefixQueries += r.promptTokens;
          if (!r.admitted && !e.resumed) m.queueTime.push(e.t - r.arrival);
          r.admitted = true;
        }
        m.prefixHits += e.cachedTokens;
        break;
      }
      case "preempted":
        c.preemptions++;
        m.preemptions++;
        break;
      case "first_token": {
        const r = this.requests.get(e.reqId);
        if (r) m.ttft.push(e.t - r.arrival);
        m.generationTokens++;
        break;
      }
      case "finished": {
        c.finished++;
        m.requestSuccess++;
        const r = this.requests.get(e.reqId);
        if (r) m.e2e.push(e.t - r.arrival);
        this.requests.delete(e.reqId);
        break;
      }
      case "step":
        c.steps++;
        m.promptTokens += e.numPrefillTokens;
        m.generationTokens += e.numDecodeTokens;
        m.iterationTokens.push(e.numScheduledTokens);
        break;
      case "blocks_evicted":
        c.evictedBlocks += e.blockIds.length;
        break;
      default:
        break;
    }
  }
}

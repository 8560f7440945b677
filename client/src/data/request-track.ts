/**
 * Per-request lifetimes rebuilt from the streamed request and step events, for the Gantt and the live metrics.
 *
 * Segments follow the vLLM V1 lifecycle: waiting (arrival → admitted), prefill (scheduled chunks with isPrefill),
 * decode (first token → finish), preempted (preempted → re-admitted; the request is back in the waiting queue with
 * its blocks freed) and recomputing (prefill chunks after a resumed admission: the lost tokens are computed again).
 * Stable ids `req-<n>` are what the tooltip, the block map and exports show.
 *
 * Invariant REQ-1: a request's segments are in time order and do not overlap, except prefill chunk marks which sit
 * on top of the running span they belong to.
 */
import type { EngineEvent } from "../../../sim/serving/types.ts";

export type SegmentKind = "waiting" | "prefill" | "decode" | "preempted" | "recomputing";

export interface Segment {
  kind: SegmentKind;
  t0: number;
  /** NaN while open. */
  t1: number;
}

export interface RequestTrack {
  id: number;
  arrival: number;
  promptTokens: number;
  outputTokens: number;
  admitted: number | null;
  firstToken: number | null;
  finished: number | null;
  rejected: string | null;
  preemptions: number;
  lostTokens: number;
  cachedTokens: number;
  segments: Segment[];
  /** Prefill chunks as scheduled by the engine: [step start, step end, tokens]. */
  chunks: [number, number, number][];
  /** Open state: which segment kind is running now. */
  phase: SegmentKind | "done" | "rejected";
  resumed: boolean;
}

export class RequestTracker {
  readonly byId = new Map<number, RequestTrack>();
  /** In arrival order. */
  readonly order: RequestTrack[] = [];
  /** Per-request latencies of the finished requests, for the metrics panel's histograms (drawing only: every
   *  figure on screen is the engine's report). */
  ttfts: number[] = [];
  e2es: number[] = [];
  tpots: number[] = [];
  preemptions = 0;
  finishedCount = 0;
  version = 0;

  clear(): void {
    this.byId.clear();
    this.order.length = 0;
    this.ttfts = [];
    this.e2es = [];
    this.tpots = [];
    this.preemptions = this.finishedCount = 0;
    this.version++;
  }

  /** Drops requests that arrived after `t` (backward seek) — simplest correct rewind is to clear and refill. */
  rewind(): void {
    this.clear();
  }

  apply(e: EngineEvent): void {
    switch (e.type) {
      case "arrival": {
        const r: RequestTrack = {
          id: e.reqId, arrival: e.t, promptTokens: e.promptTokens, outputTokens: e.outputTokens,
          admitted: null, firstToken: null, finished: null, rejected: null, preemptions: 0, lostTokens: 0,
          cachedTokens: 0, segments: [{ kind: "waiting", t0: e.t, t1: NaN }], chunks: [], phase: "waiting", resumed: false,
        };
        if (!this.byId.has(e.reqId)) {
          this.byId.set(e.reqId, r);
          this.order.push(r);
        }
        break;
      }
      case "rejected": {
        const r = this.get(e.reqId, e.t);
        this.close(r, e.t);
        r.rejected = e.reason;
        r.phase = "rejected";
        break;
      }
      case "admitted": {
        const r = this.get(e.reqId, e.t);
        this.close(r, e.t);
        if (r.admitted === null) {
          r.admitted = e.t;
          r.cachedTokens = e.cachedTokens;
        }
        r.resumed = e.resumed;
        const kind: SegmentKind = e.resumed ? "recomputing" : r.firstToken === null ? "prefill" : "decode";
        r.segments.push({ kind, t0: e.t, t1: NaN });
        r.phase = kind;
        break;
      }
      case "first_token": {
        const r = this.get(e.reqId, e.t);
        if (r.firstToken === null) {
          r.firstToken = e.t;
          this.ttfts.push(e.t - r.arrival);
        }
        if (r.phase === "prefill" || r.phase === "recomputing") {
          this.close(r, e.t);
          r.segments.push({ kind: "decode", t0: e.t, t1: NaN });
          r.phase = "decode";
        }
        break;
      }
      case "preempted": {
        const r = this.get(e.reqId, e.t);
        this.close(r, e.t);
        r.preemptions++;
        r.lostTokens += e.lostTokens;
        this.preemptions++;
        r.segments.push({ kind: "preempted", t0: e.t, t1: NaN });
        r.phase = "preempted";
        break;
      }
      case "finished": {
        const r = this.get(e.reqId, e.t);
        this.close(r, e.t);
        r.finished = e.t;
        r.phase = "done";
        this.finishedCount++;
        this.e2es.push(e.t - r.arrival);
        if (r.firstToken !== null && r.outputTokens > 1) this.tpots.push((e.t - r.firstToken) / (r.outputTokens - 1));
        break;
      }
      case "step": {
        // A recomputing request that has re-done its lost tokens goes back to decode at the step that schedules it
        // as a decode (isPrefill 0).
        for (const [reqId, tokens, isPrefill] of e.scheduled) {
          const r = this.byId.get(reqId);
          if (!r) continue;
          if (isPrefill === 1) r.chunks.push([e.t, e.end, tokens]);
          if (isPrefill === 0 && r.phase === "recomputing" && r.firstToken !== null) {
            this.close(r, e.t);
            r.segments.push({ kind: "decode", t0: e.t, t1: NaN });
            r.phase = "decode";
          }
        }
        break;
      }
      default:
        return;
    }
    this.version++;
  }

  /** Requests whose lifetime overlaps [t0, t1], in arrival order. */
  inWindow(t0: number, t1: number, now: number): RequestTrack[] {
    const out: RequestTrack[] = [];
    for (const r of this.order) {
      if (r.arrival > t1) break;
      const end = r.finished ?? (r.rejected !== null ? r.arrival : now);
      if (end >= t0) out.push(r);
    }
    return out;
  }

  private get(id: number, t: number): RequestTrack {
    let r = this.byId.get(id);
    if (!r) {
      // Joined mid-run (connected late or after a seek): the arrival is unknown, start it here.
      r = {
        id, arrival: t, promptTokens: 0, outputTokens: 0, admitted: null, firstToken: null, finished: null,
        rejected: null, preemptions: 0, lostTokens: 0, cachedTokens: 0, segments: [], chunks: [], phase: "waiting", resumed: false,
      };
      this.byId.set(id, r);
      this.order.push(r);
    }
    return r;
  }

  private close(r: RequestTrack, t: number): void {
    const last = r.segments[r.segments.length - 1];
    if (last && Number.isNaN(last.t1)) last.t1 = t;
  }
}

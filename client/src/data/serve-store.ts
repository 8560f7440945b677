/**
 * Everything the Serve view draws, accumulated from one run's stream: the memory series (every snapshot kept, so
 * hover reports exact bytes even where drawing downsamples), eviction/preemption markers, the block map, request
 * lifetimes, and the run's state. The views read it; only `apply` writes it.
 *
 * Invariant STORE-1: `snapshots` is sorted by t (frames arrive in order, PROTO-1; a `rewoundTo` truncates first).
 */
import type { MemorySnapshot, ReplaySummary, KvBudget } from "../../../sim/serving/types.ts";
import type {
  HelloMessage, FrameMessage, StateMessage, RunFacts,
} from "../../../server/protocol.ts";
import { BlockStateMap } from "./block-state.ts";
import { RequestTracker } from "./request-track.ts";
import {
  packBlockEvents, isPacked, RECORD_HEADER, OP_ALLOCATED, OP_TOUCHED, OP_FREED, OP_CACHED, OP_EVICTED, OP_BARRIER,
  type PackedFrame, type PackedBlockOps, type EvictionSummary, type StreamMessage,
} from "./frame-pack.ts";

export interface Marker {
  t: number;
  kind: "eviction" | "preemption";
  /** Blocks evicted or requests preempted in the batch the marker stands for. */
  count: number;
}

export type Speed = number | "max";

/** Snapshots kept before the oldest half is thinned (~200 bytes each: ≈ 40 MB at the bound). */
export const MAX_SNAPSHOTS = 200_000;

export class ServeStore {
  runId: string | null = null;
  kind = "replay";
  facts: RunFacts | null = null;
  budget: KvBudget | null = null;
  config: Record<string, unknown> | null = null;
  state = "created";
  speed: Speed = 1;
  t = 0;
  message = "";
  snapshots: MemorySnapshot[] = [];
  markers: Marker[] = [];
  droppedSamples = 0;
  /** Snapshots dropped client-side by `compact()` (long replays). */
  compactedSamples = 0;
  frames = 0;
  lastFrameSeq = -1;
  totals = { steps: 0, arrivals: 0, admitted: 0, finished: 0, rejected: 0, preemptions: 0, evictedBlocks: 0 };
  summary: ReplaySummary | null = null;
  /** The engine's report so far (frames' `live`), until `summary` replaces it. */
  live: ReplaySummary | null = null;
  /** Simulated time `live` covers (frames' `liveT`; may trail the stream's clock by part of a frame). */
  liveT = 0;
  readonly blocks = new BlockStateMap();
  readonly requests = new RequestTracker();
  /** Bumped on any change; views compare to skip work. */
  version = 0;
  /** Wall-clock of the last applied frame (performance.now()). */
  lastFrameAt = 0;
  lastError: { message: string; field?: string } | null = null;
  /** The evictions of the last applied frame (null when it had none), for the event log. */
  frameEvictions: EvictionSummary | null = null;

  reset(): void {
    this.snapshots = [];
    this.markers = [];
    this.droppedSamples = 0;
    this.compactedSamples = 0;
    this.frames = 0;
    this.lastFrameSeq = -1;
    this.totals = { steps: 0, arrivals: 0, admitted: 0, finished: 0, rejected: 0, preemptions: 0, evictedBlocks: 0 };
    this.summary = null;
    this.live = null;
    this.requests.clear();
    this.blocks.resize(this.budget?.numGpuBlocks ?? 0);
    this.version++;
  }

  apply(msg: StreamMessage, now = performance.now()): void {
    switch (msg.type) {
      case "hello":
        this.hello(msg);
        break;
      case "frame":
        this.frame(msg, now);
        break;
      case "blocks":
        this.blocks.load(msg.state, msg.owner, msg.t, msg.tables, msg.cachedInUse);
        break;
      case "state":
        this.onState(msg);
        break;
      case "summary":
        if (msg.summary) this.summary = msg.summary;
        break;
      case "error":
        this.lastError = { message: msg.message, field: msg.field };
        break;
    }
    this.version++;
  }

  /**
   * Bounds memory on hour-long replays: the older half of the series keeps one snapshot in two (the one using more
   * memory, so peaks survive). Every kept snapshot is still an exact engine snapshot; only the time resolution of
   * old history coarsens, and `compactedSamples` counts what was dropped.
   */
  private compact(): void {
    const half = this.snapshots.length >> 1;
    const old = this.snapshots.slice(0, half);
    const kept: MemorySnapshot[] = [];
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i];
      const b = old[i + 1];
      kept.push(!b || a.kvUsedBytes + a.kvCachedFreeBytes >= b.kvUsedBytes + b.kvCachedFreeBytes ? a : b);
    }
    this.compactedSamples += old.length - kept.length;
    this.snapshots = kept.concat(this.snapshots.slice(half));
  }

  /** The snapshot at or just before t (exact, never downsampled), for hover. */
  snapshotAt(t: number): MemorySnapshot | null {
    const s = this.snapshots;
    if (s.length === 0) return null;
    let lo = 0, hi = s.length - 1;
    if (t <= s[0].t) return s[0];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid].t <= t) lo = mid;
      else hi = mid - 1;
    }
    return s[lo];
  }

  /** Last arrival of the trace (scrubber range), or the furthest time seen. */
  get horizon(): number {
    const last = this.snapshots.length ? this.snapshots[this.snapshots.length - 1].t : 0;
    return Math.max(this.facts?.trace?.lastArrival ?? 0, last, this.t);
  }

  private hello(m: HelloMessage): void {
    const sameRun = this.runId === m.runId;
    this.runId = m.runId;
    this.kind = m.kind;
    this.facts = m.facts;
    this.budget = m.budget as KvBudget | null;
    this.config = (m.config ?? null) as Record<string, unknown> | null;
    this.state = m.state;
    this.speed = m.speed;
    this.t = m.t;
    if (!sameRun) this.reset();
  }

  private onState(m: StateMessage): void {
    this.state = m.state;
    this.speed = m.speed;
    this.t = m.t;
    this.message = m.message ?? "";
    if (m.rewoundTo !== undefined) this.rewind(m.rewoundTo);
  }

  /** PROTO-1: after a backward seek the timeline restarts at `t`. */
  private rewind(t: number): void {
    this.snapshots = this.snapshots.filter((s) => s.t <= t);
    this.markers = this.markers.filter((m) => m.t <= t);
    this.requests.rewind();
    this.summary = null;
    this.live = null;
  }

  private frame(msg: FrameMessage, now: number): void {
    let f: PackedFrame;
    if (isPacked(msg)) f = msg;
    else {
      const { rest, packed, evictions } = packBlockEvents(msg.events);
      f = { ...msg, events: rest, packed, evictions };
    }
    this.frames++;
    this.lastFrameSeq = f.seq;
    this.lastFrameAt = now;
    this.droppedSamples += f.droppedSamples;
    for (const k of Object.keys(this.totals) as (keyof typeof this.totals)[]) this.totals[k] += f.counts[k] ?? 0;
    const last = this.snapshots.length ? this.snapshots[this.snapshots.length - 1].t : -Infinity;
    for (const s of f.snapshots) if (s.t >= last) this.snapshots.push(s); // STORE-1
    if (this.snapshots.length > MAX_SNAPSHOTS) this.compact();
    if (f.t1 > this.t) this.t = f.t1;
    if (f.live) {
      this.live = f.live;
      this.liveT = f.liveT ?? f.t1;
    }
    this.applyBlockOps(f.packed, now);
    this.frameEvictions = f.evictions;
    let preemptT = NaN, preemptN = 0;
    for (const e of f.events) {
      switch (e.type) {
        case "preempted":
          if (Number.isNaN(preemptT)) preemptT = e.t;
          preemptN++;
          this.requests.apply(e);
          break;
        case "memory": if (e.snapshot.t >= last) this.snapshots.push(e.snapshot); break;
        default: this.requests.apply(e);
      }
    }
    let evictT = f.evictions?.firstT ?? NaN, evictN = f.evictions?.blocks ?? 0;
    // Without per-block events the frame's counts still say evictions happened (PROTO-2).
    if (evictN === 0 && f.counts.evictedBlocks > 0) { evictT = f.t0; evictN = f.counts.evictedBlocks; }
    if (preemptN === 0 && f.counts.preemptions > 0) { preemptT = f.t0; preemptN = f.counts.preemptions; }
    if (evictN > 0) this.markers.push({ t: evictT, kind: "eviction", count: evictN });
    if (preemptN > 0) this.markers.push({ t: preemptT, kind: "preemption", count: preemptN });
  }

  /**
   * The block records of one frame, in engine order (PACK-1). Within one engine step the block events come in
   * causal order (freed by preemption → evicted → touched → allocated → cached); a request may hit blocks another
   * request allocates in that same step, so prefix hits and cache marks are applied at the end of the step (the
   * next barrier or free), after every allocation.
   */
  private applyBlockOps({ ops, times }: PackedBlockOps, now: number): void {
    const pending: number[] = []; // [word offset, record index] of touched / cached records not yet applied
    const ids = (w: number) => ops.subarray(w + RECORD_HEADER, w + RECORD_HEADER + ops[w + 3]);
    const flush = () => {
      for (let i = 0; i < pending.length; i += 2) {
        const w = pending[i];
        if (ops[w] === OP_TOUCHED) this.blocks.touched(ops[w + 1], ids(w), times[pending[i + 1]], now, ops[w + 2]);
      }
      for (let i = 0; i < pending.length; i += 2) if (ops[pending[i]] === OP_CACHED) this.blocks.cached(ids(pending[i]), ops[pending[i] + 2]);
      pending.length = 0;
    };
    for (let w = 0, r = 0; w < ops.length; w += RECORD_HEADER + ops[w + 3], r++) {
      const op = ops[w];
      if (op === OP_BARRIER || op === OP_FREED) flush();
      switch (op) {
        case OP_ALLOCATED: this.blocks.allocated(ops[w + 1], ids(w), times[r], ops[w + 2]); break;
        case OP_TOUCHED:
        case OP_CACHED: pending.push(w, r); break;
        case OP_FREED: this.blocks.freed(ops[w + 1], ids(w), times[r]); break;
        case OP_EVICTED: this.blocks.evicted(ids(w), now); break;
      }
    }
    flush();
  }

}

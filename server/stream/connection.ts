/**
 * One WebSocket viewer of a run: its subscription, its pending (coalesced) frame and its backpressure state.
 *
 * Why per connection: viewers differ in speed and interest. Worker batches arrive at the run's tick rate; each
 * connection merges them into one pending frame and sends it when (a) its frame interval has passed (≥ 1/30 s:
 * FRAME-1 at most ~30 frames per wall second whatever the simulation speed) and (b) the socket's `bufferedAmount`
 * is under the soft bound. A connection whose buffer stays above the soft bound gets coarser frames (the interval
 * doubles, up to `maxIntervalMs`; merged frames downsample the memory series harder); one that stays above the hard
 * bound for `slowCloseMs`, or whose pending discrete events exceed `maxPendingEvents` (events are never dropped,
 * PROTO-2, so the only bounded answer is to disconnect), is closed with {@link CLOSE_CODES.tooSlow}.
 *
 * Invariant BP-1: memory held per connection is bounded by maxPendingEvents events + maxSnapshotsPerFrame
 * snapshots + what the socket itself buffers (≤ hardBufferBytes + one frame).
 */
import type { WebSocket } from "ws";
import type { EngineEvent, MemorySnapshot, ReplaySummary } from "../../sim/serving/types.ts";
import {
  CLOSE_CODES,
  DEFAULT_DETAIL,
  type DetailLevel,
  type FrameCounts,
  type FrameMessage,
  type ServerMessage,
} from "../protocol.ts";
import type { WorkerBatch } from "../runs/worker-messages.ts";
import { downsampleSnapshots } from "./downsample.ts";

export interface StreamLimits {
  /** Base frame interval, ms (1000/30). */
  frameIntervalMs: number;
  /** Coarsest frame interval under backpressure, ms. */
  maxIntervalMs: number;
  /** Above this `bufferedAmount` no frame is sent and frames get coarser. */
  softBufferBytes: number;
  /** Staying above this for `slowCloseMs` closes the connection. */
  hardBufferBytes: number;
  slowCloseMs: number;
  maxPendingEvents: number;
  maxSnapshotsPerFrame: number;
  /** Client messages per second allowed (burst = this); beyond it each gets an error, and 5× it closes. */
  maxMessagesPerSecond: number;
  /** Open stream connections per server; more are closed at once with {@link CLOSE_CODES.busy}. */
  maxConnections: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  frameIntervalMs: 1000 / 30,
  maxIntervalMs: 1000,
  softBufferBytes: 1 << 20,
  hardBufferBytes: 8 << 20,
  slowCloseMs: 5000,
  maxPendingEvents: 250_000,
  maxSnapshotsPerFrame: 300,
  maxMessagesPerSecond: 50,
  maxConnections: 1000,
};

const LEVEL_OF: Record<EngineEvent["type"], DetailLevel> = {
  arrival: "requests",
  rejected: "requests",
  admitted: "requests",
  preempted: "requests",
  first_token: "requests",
  finished: "requests",
  step: "steps",
  blocks_allocated: "blocks",
  blocks_touched: "blocks",
  blocks_freed: "blocks",
  blocks_cached: "blocks",
  blocks_evicted: "blocks",
  memory: "memory",
};

interface PendingFrame {
  /** Set while the pending frame is exactly one batch under one subscription: its JSON can be shared. */
  source?: { batch: WorkerBatch; key: string };
  t0: number;
  t1: number;
  snapshots: MemorySnapshot[];
  droppedSamples: number;
  events: EngineEvent[];
  counts: FrameCounts;
  extra: unknown[];
  live?: ReplaySummary;
  liveT?: number;
}

/**
 * Frame bodies (everything after `seq`) already serialised, per batch and subscription: with many viewers of one
 * run, each batch is stringified once per distinct subscription instead of once per connection.
 */
const bodyCache = new WeakMap<WorkerBatch, Map<string, string>>();

export class StreamConnection {
  detail = new Set<DetailLevel>(DEFAULT_DETAIL);
  /** Frames sent so far. */
  seq = 0;
  /** Current frame interval (grows under backpressure). */
  intervalMs: number;
  /** Frames sent while the interval was above the base (for tests and /metrics). */
  coarseFrames = 0;
  closed = false;
  private pending: PendingFrame | null = null;
  private lastSent = 0;
  private overHardSince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private msgWindowStart = 0;
  private msgCount = 0;

  constructor(
    readonly socket: WebSocket,
    readonly limits: StreamLimits,
    private readonly onClose: (conn: StreamConnection) => void,
  ) {
    this.intervalMs = limits.frameIntervalMs;
    socket.on("close", () => this.dispose());
    socket.on("error", () => this.dispose());
  }

  /** Control messages (hello, state, summary, error, blocks) go out at once, after any pending frame (ordering). */
  send(msg: ServerMessage): void {
    if (this.closed) return;
    if (msg.type !== "frame" && msg.type !== "error" && this.pending) this.sendPending(Date.now());
    this.write(msg);
  }

  /** Merges a worker batch into the pending frame and sends it when allowed. */
  pushBatch(b: WorkerBatch): void {
    if (this.closed) return;
    const events = this.detail.size === 4 ? b.events : b.events.filter((e) => this.detail.has(LEVEL_OF[e.type]));
    const snapshots = this.detail.has("memory") ? b.snapshots : [];
    const p = this.pending;
    if (!p) {
      this.pending = {
        source: { batch: b, key: [...this.detail].sort().join(",") },
        t0: b.t0,
        t1: b.t1,
        snapshots: snapshots.slice(),
        droppedSamples: this.detail.has("memory") ? b.droppedSamples : 0,
        events: events.slice(),
        counts: { ...b.counts },
        extra: b.extra ? b.extra.slice() : [],
        live: b.live,
        liveT: b.liveT,
      };
    } else {
      p.source = undefined;
      p.t0 = Math.min(p.t0, b.t0);
      p.t1 = Math.max(p.t1, b.t1);
      for (const s of snapshots) p.snapshots.push(s);
      if (this.detail.has("memory")) p.droppedSamples += b.droppedSamples;
      for (const e of events) p.events.push(e);
      for (const k of Object.keys(p.counts) as (keyof FrameCounts)[]) p.counts[k] += b.counts[k];
      if (b.extra) for (const x of b.extra) p.extra.push(x);
      if (b.live) {
        p.live = b.live;
        p.liveT = b.liveT;
      }
    }
    const q = this.pending!;
    if (q.snapshots.length > this.limits.maxSnapshotsPerFrame) {
      q.source = undefined;
      const { kept, dropped } = downsampleSnapshots(q.snapshots, this.limits.maxSnapshotsPerFrame);
      q.snapshots = kept;
      q.droppedSamples += dropped;
    }
    if (q.events.length > this.limits.maxPendingEvents) {
      this.close(CLOSE_CODES.tooSlow, "client too slow: pending events exceeded the server bound");
      return;
    }
    this.maybeFlush();
  }

  /** A backward seek: what is pending belongs to the abandoned timeline. */
  discardPending(): void {
    this.pending = null;
  }

  /** Rate limiting of client messages: false when this message must be refused. */
  admitMessage(now = Date.now()): "ok" | "refuse" | "close" {
    if (now - this.msgWindowStart >= 1000) {
      this.msgWindowStart = now;
      this.msgCount = 0;
    }
    this.msgCount++;
    if (this.msgCount > 5 * this.limits.maxMessagesPerSecond) return "close";
    if (this.msgCount > this.limits.maxMessagesPerSecond) return "refuse";
    return "ok";
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    try {
      this.socket.close(code, reason.slice(0, 120));
    } catch {
      this.socket.terminate();
    }
    // A peer that does not read will never answer the close handshake.
    setTimeout(() => this.socket.terminate(), 2000).unref();
    this.dispose();
  }

  /** Sends the pending frame now if the rate and the buffer allow, else arms a timer. */
  maybeFlush(): void {
    if (this.closed || !this.pending) return;
    const now = Date.now();
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.limits.hardBufferBytes) {
      this.overHardSince ??= now;
      if (now - this.overHardSince >= this.limits.slowCloseMs) {
        this.close(CLOSE_CODES.tooSlow, `client too slow: send buffer above ${this.limits.hardBufferBytes} bytes for ${this.limits.slowCloseMs} ms`);
        return;
      }
    } else this.overHardSince = null;
    if (buffered > this.limits.softBufferBytes) {
      this.intervalMs = Math.min(this.intervalMs * 2, this.limits.maxIntervalMs);
      this.arm(this.intervalMs);
      return;
    }
    if (buffered < this.limits.softBufferBytes / 4 && this.intervalMs > this.limits.frameIntervalMs)
      this.intervalMs = Math.max(this.limits.frameIntervalMs, this.intervalMs / 2);
    const wait = this.lastSent + this.intervalMs - now;
    if (wait > 0) {
      this.arm(wait);
      return;
    }
    this.sendPending(now);
  }

  private arm(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.maybeFlush();
    }, Math.max(1, ms));
  }

  private sendPending(now: number): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    const frame: FrameMessage = {
      type: "frame",
      seq: this.seq++,
      t0: p.t0,
      t1: p.t1,
      snapshots: p.snapshots,
      droppedSamples: p.droppedSamples,
      events: p.events,
      counts: p.counts,
    };
    if (p.extra.length) frame.extra = p.extra;
    if (p.live) {
      frame.live = p.live;
      frame.liveT = p.liveT;
    }
    if (this.intervalMs > this.limits.frameIntervalMs) this.coarseFrames++;
    this.lastSent = now;
    if (!p.source) {
      this.write(frame);
      return;
    }
    let perKey = bodyCache.get(p.source.batch);
    if (!perKey) bodyCache.set(p.source.batch, (perKey = new Map()));
    let body = perKey.get(p.source.key);
    if (body === undefined) {
      const { type: _t, seq: _s, ...rest } = frame;
      body = JSON.stringify(rest).slice(1);
      perKey.set(p.source.key, body);
    }
    this.writeRaw(`{"type":"frame","seq":${frame.seq},${body}`);
  }

  private writeRaw(text: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(text);
  }

  private write(msg: ServerMessage): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(msg));
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.onClose(this);
  }
}


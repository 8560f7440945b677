/**
 * One run on the main thread: its lifecycle actor (machine.ts), its worker (worker-host.ts), its viewers
 * (StreamConnection) and what must outlive the worker (summary, failure message).
 *
 * Pacing lives here, driven by the machine's ticker: on each TICK while running, and only when the worker is idle
 * (one request in flight, so a slow simulation lowers the frame rate instead of queueing work), the run asks the
 * worker to advance to the simulated time the wall clock implies at the current speed (pacing.ts),
 * or for ~25 ms of stepping at "max". User commands that need the worker (step, seek, subscribe to blocks) are
 * queued behind the in-flight request and run in order; ticks are skipped while any is pending.
 *
 * Invariants: RUN-1 at most one worker request in flight; RUN-2 the worker is terminated when the run reaches a
 * final state; RUN-3 a worker failure moves only this run to `failed`.
 */
import { createActor } from "xstate";
import type { KvBudget, ReplaySummary } from "../../sim/serving/types.ts";
import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type DetailLevel,
  type RunFacts,
  type RunState,
  type ServerMessage,
  type Speed,
  type StateMessage,
} from "../protocol.ts";
import type { ServerMetrics } from "../metrics/registry.ts";
import type { StreamConnection } from "../stream/connection.ts";
import { checkEvent, runMachine, stateOf, type RunActor, type RunEvent } from "./machine.ts";
import type { PreparedRun, RunKind } from "./kinds/types.ts";
import type { WorkerBatch } from "./worker-messages.ts";
import { loadableModule, WorkerHost } from "./worker-host.ts";
import { Pacer } from "./pacing.ts";

/** Pending user commands per run; beyond this, commands are refused (flood protection). */
const MAX_QUEUED_COMMANDS = 32;

export type StartMode = "on-connect" | "now" | "paused";

export interface RunInit {
  id: string;
  kind: RunKind;
  prepared: PreparedRun;
  speed: Speed;
  start: StartMode;
  metrics: ServerMetrics;
  tickMs: number;
  workerMemoryMb: number;
  /**
   * A run nobody watches (no stream for this long) is cancelled, unless it was started with `start: "now"` (a
   * script's run): a page reloaded twenty times must not leave twenty runs holding the worker slots.
   */
  abandonAfterMs: number;
  /** Simulation compute between two checkpoints in the worker, ms (server/runs/checkpoints.ts). */
  checkpointEveryMs: number;
  /** Called once when the run reaches a final state (the manager frees its slot). */
  onEnded: (run: Run) => void;
}

export interface RunInfo {
  id: string;
  kind: string;
  state: RunState;
  speed: Speed;
  t: number;
  createdAt: string;
  queuePosition?: number;
  message?: string;
  config: unknown;
  facts: RunFacts;
  budget: KvBudget | null;
  summary?: ReplaySummary;
  result?: unknown;
}

export class Run {
  readonly id: string;
  readonly kind: RunKind;
  readonly prepared: PreparedRun;
  readonly createdAt = new Date();
  readonly actor: RunActor;
  readonly conns = new Set<StreamConnection>();
  summary?: ReplaySummary;
  result?: unknown;
  queuePosition?: number;
  private host: WorkerHost | null = null;
  /** The run's worker, kept after it is terminated (tests await `worker.exited`). */
  worker: WorkerHost | null = null;
  private readonly init: RunInit;
  private readonly pacer = new Pacer();
  private commands: Array<() => Promise<void>> = [];
  private working = false;
  private blocksWanted = false;
  private ended = false;
  private lastState: RunState = "created";
  private lastRewound = false;
  /**
   * A pause that came while the worker was advancing: its batch is still to be streamed, so `paused` is told once
   * it has been (a viewer never sees a frame after `paused` until it plays or steps).
   */
  private pauseUntold = false;
  private abandonTimer: NodeJS.Timeout | null = null;
  private lastSpeed: Speed;

  constructor(init: RunInit) {
    this.init = init;
    this.id = init.id;
    this.kind = init.kind;
    this.prepared = init.prepared;
    this.lastSpeed = init.speed;
    const machine = runMachine.provide({
      actions: {
        advance: () => this.tick(),
        step: (_, params) => this.enqueue(() => this.request({ op: "step", n: params.n, budgetMs: 2000 })),
        seek: (_, params) =>
          this.enqueue(async () => {
            await this.request({ op: "seek", t: params.t, budgetMs: 10_000 });
            this.reanchor();
            // A rewind already announced itself (rewoundTo); a forward seek reports where it landed.
            if (!this.isFinal && !this.lastRewound) this.broadcastState();
          }),
        // Snapshot-dependent work (re-anchoring, telling viewers) happens in the subscriber below, once the new
        // speed is in the snapshot: inside an action, getSnapshot() still returns the previous one.
        speedChanged: () => {},
      },
    });
    this.actor = createActor(machine, {
      input: { runId: init.id, speed: init.speed, autoplay: init.start === "now", tickMs: init.tickMs },
    });
    this.actor.subscribe({
      next: (snap) => {
        const state = stateOf(snap);
        if (snap.context.speed !== this.lastSpeed && state === this.lastState) {
          this.lastSpeed = snap.context.speed;
          this.reanchor();
          this.broadcastState();
        }
        this.lastSpeed = snap.context.speed;
        if (state !== this.lastState) {
          this.lastState = state;
          if (state === "running") this.reanchor();
          this.pauseUntold = state === "paused" && this.working;
          if (!this.pauseUntold) this.broadcastState();
          if (snap.status === "done") this.finish();
        }
      },
      error: (err) => this.fail(`run lifecycle error: ${String(err)}`),
    });
    this.actor.start();
    this.armAbandon();
  }

  /** Whether the first viewer already started this on-connect run. */
  private autoStarted = false;

  private armAbandon(): void {
    if (this.init.start === "now" || this.isFinal || this.conns.size > 0 || this.abandonTimer) return;
    this.abandonTimer = setTimeout(() => {
      this.abandonTimer = null;
      if (this.conns.size === 0 && !this.isFinal)
        this.actor.send({ type: "CANCEL", message: `cancelled: no viewer for ${formatMs(this.init.abandonAfterMs)}` });
    }, this.init.abandonAfterMs);
    this.abandonTimer.unref();
  }

  private disarmAbandon(): void {
    if (this.abandonTimer) clearTimeout(this.abandonTimer);
    this.abandonTimer = null;
  }

  get state(): RunState {
    return stateOf(this.actor.getSnapshot());
  }

  get t(): number {
    return this.actor.getSnapshot().context.t;
  }

  get speed(): Speed {
    return this.actor.getSnapshot().context.speed;
  }

  get isFinal(): boolean {
    return this.actor.getSnapshot().status === "done";
  }

  /** Called by the manager when a worker slot is free: spawn the worker, build the engine, become ready. */
  async launch(): Promise<void> {
    if (this.isFinal) return;
    this.queuePosition = undefined;
    this.working = true;
    const [host, simModule] = await Promise.all([
      WorkerHost.start({ maxOldGenerationSizeMb: this.kind.workerMemoryMb ?? this.init.workerMemoryMb, onFail: (m) => this.fail(m) }),
      loadableModule(this.kind.simModule),
    ]);
    if (this.isFinal) {
      // Cancelled while the bundles were being built.
      await host.terminate();
      this.working = false;
      return;
    }
    this.host = host;
    this.worker = host;
    try {
      const b = await host.request({
        op: "init",
        kind: this.kind.name,
        simModule,
        input: this.prepared.workerInput,
        blocks: this.blocksWanted,
        checkpointEveryMs: this.init.checkpointEveryMs,
      });
      this.working = false;
      this.onBatch(b);
      this.send({ type: "READY" });
    } catch {
      // onFail has failed the run already.
    }
    this.working = false;
    this.drain();
  }

  /** A user command from a stream; returns an error message when the current state refuses it. */
  command(msg: ClientMessage, conn?: StreamConnection): string | null {
    switch (msg.type) {
      case "subscribe":
        if (conn) this.subscribe(conn, msg.detail);
        return null;
      case "play":
        return this.send({ type: "PLAY" });
      case "pause":
        return this.send({ type: "PAUSE" });
      case "step":
        if (this.commands.length >= MAX_QUEUED_COMMANDS) return "step: too many pending commands; wait for the replies";
        return this.send({ type: "STEP", n: msg.n ?? 1 });
      case "speed":
        return this.send({ type: "SPEED", speed: msg.speed });
      case "seek":
        if (this.commands.length >= MAX_QUEUED_COMMANDS) return "seek: too many pending commands; wait for the replies";
        return this.send({ type: "SEEK", t: msg.t });
    }
  }

  /** Sends an event after the MACH-3 check; returns the refusal message, if any. */
  send(event: RunEvent): string | null {
    const refusal = checkEvent(this.actor.getSnapshot(), event);
    if (refusal) return refusal;
    this.actor.send(event);
    return null;
  }

  cancel(): void {
    if (!this.isFinal) this.actor.send({ type: "CANCEL" });
  }

  attach(conn: StreamConnection): void {
    this.conns.add(conn);
    this.disarmAbandon();
    conn.send(this.hello(conn));
    // A first subscription given in the URL (?detail=…) counts as a `subscribe`: block detail reaches the worker.
    const initial = [...conn.detail];
    conn.detail = new Set();
    this.subscribe(conn, initial);
    if (this.queuePosition !== undefined)
      conn.send(this.stateMessage({ message: `queued at position ${this.queuePosition}: waiting for a free worker slot` }));
    if (this.summary || this.result !== undefined) conn.send(this.summaryMessage());
    if (this.state === "failed") conn.send({ type: "error", message: this.actor.getSnapshot().context.message ?? "run failed" });
    // The first viewer starts an on-connect run. The worker may already be ready (READY without autoplay parks the run
    // in `paused`), so PLAY applies to `paused` too — but only once: a later viewer must not undo a user's pause.
    if (this.init.start === "on-connect" && !this.autoStarted && (this.state === "created" || this.state === "paused")) {
      this.autoStarted = true;
      this.actor.send({ type: "PLAY" });
    }
  }

  detach(conn: StreamConnection): void {
    this.conns.delete(conn);
    this.armAbandon();
    this.updateBlocksWanted();
  }

  info(): RunInfo {
    const ctx = this.actor.getSnapshot().context;
    return {
      id: this.id,
      kind: this.kind.name,
      state: this.state,
      speed: ctx.speed,
      t: ctx.t,
      createdAt: this.createdAt.toISOString(),
      ...(this.queuePosition !== undefined ? { queuePosition: this.queuePosition } : {}),
      ...(ctx.message !== undefined && this.state !== "running" ? { message: ctx.message } : {}),
      config: this.prepared.config,
      facts: this.prepared.facts,
      budget: this.prepared.budget,
      ...(this.summary ? { summary: this.summary } : {}),
      ...(this.result !== undefined ? { result: this.result } : {}),
    };
  }

  broadcastState(extra: Partial<StateMessage> = {}): void {
    const msg = this.stateMessage(extra);
    for (const c of this.conns) c.send(msg);
  }

  stateMessage(extra: Partial<StateMessage> = {}): StateMessage {
    const ctx = this.actor.getSnapshot().context;
    const msg: StateMessage = { type: "state", runId: this.id, state: this.state, speed: ctx.speed, t: ctx.t, ...extra };
    if (this.queuePosition !== undefined) msg.queuePosition = this.queuePosition;
    if (ctx.message !== undefined && (this.state === "failed" || this.state === "cancelled")) msg.message = ctx.message;
    return msg;
  }

  // ----------------------------------------------------------------------------------------------------------

  private hello(conn: StreamConnection): ServerMessage {
    return {
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      runId: this.id,
      kind: this.kind.name,
      config: this.prepared.config,
      facts: this.prepared.facts,
      budget: this.prepared.budget,
      state: this.state,
      speed: this.speed,
      t: this.t,
      detail: [...conn.detail],
      maxFrameRate: Math.round(1000 / this.init.tickMs),
    };
  }

  private summaryMessage(): ServerMessage {
    return {
      type: "summary",
      runId: this.id,
      ...(this.summary ? { summary: this.summary } : {}),
      ...(this.result !== undefined ? { result: this.result } : {}),
    };
  }

  private subscribe(conn: StreamConnection, detail: DetailLevel[]): void {
    const had = conn.detail.has("blocks");
    const wasWanted = this.blocksWanted;
    conn.detail = new Set(detail);
    this.updateBlocksWanted();
    // Turning block detail on in the worker already replies with a block map; otherwise ask for one.
    if (!had && conn.detail.has("blocks") && wasWanted && this.host && !this.isFinal)
      this.enqueue(() => this.request({ op: "blocks" }));
  }

  private updateBlocksWanted(): void {
    const wanted = [...this.conns].some((c) => c.detail.has("blocks"));
    if (wanted === this.blocksWanted) return;
    this.blocksWanted = wanted;
    if (this.host && !this.isFinal) this.enqueue(() => this.request({ op: "detail", blocks: wanted }));
  }

  private reanchor(): void {
    this.pacer.anchor(this.t, performance.now());
  }

  private tick(): void {
    if (this.working || this.commands.length > 0 || !this.host) return;
    const adv = this.pacer.next(this.speed, this.t, performance.now());
    if (adv) void this.run(() => this.request({ op: "advance", ...adv }));
  }

  private enqueue(op: () => Promise<void>): void {
    this.commands.push(op);
    this.drain();
  }

  private drain(): void {
    if (this.working) return;
    const next = this.commands.shift();
    if (next) void this.run(next);
  }

  private async run(op: () => Promise<void>): Promise<void> {
    this.working = true;
    try {
      await op();
    } catch {
      // The worker died: onFail handles it.
    } finally {
      this.working = false;
    }
    if (this.pauseUntold) {
      this.pauseUntold = false;
      if (this.state === "paused") this.broadcastState();
    }
    if (!this.isFinal) this.drain();
  }

  private async request(req: Parameters<WorkerHost["request"]>[0]): Promise<void> {
    const host = this.host;
    if (!host || !host.alive || this.isFinal) return;
    const b = await host.request(req);
    if (this.isFinal) return;
    this.onBatch(b);
  }

  private onBatch(b: WorkerBatch): void {
    this.lastRewound = b.rewoundTo !== undefined;
    if (b.rewoundTo !== undefined) {
      this.init.metrics.resetRun(this.id);
      for (const c of this.conns) c.discardPending();
    }
    this.actor.send({ type: "PROGRESS", t: b.t1 });
    if (b.rewoundTo !== undefined) {
      this.reanchor();
      this.broadcastState({ rewoundTo: b.rewoundTo, resumedFrom: b.resumedFrom });
    }
    for (const c of this.conns) c.pushBatch(b);
    if (b.blocks) for (const c of this.conns) if (c.detail.has("blocks")) c.send({ type: "blocks", ...b.blocks });
    // After the viewers have the batch: a rewind re-records every request so far (in slices; metrics/registry.ts).
    this.init.metrics.record(this.id, b.metrics, b.last);
    if (b.finished && b.result) {
      this.summary = b.result.summary;
      this.result = b.result.result;
      const msg = this.summaryMessage();
      for (const c of this.conns) c.send(msg);
      this.actor.send({ type: "FINISHED", t: b.t1 });
    }
  }

  private fail(message: string): void {
    if (this.isFinal) return;
    this.actor.send({ type: "FAIL", message });
    for (const c of this.conns) c.send({ type: "error", message: `run ${this.id} failed: ${message}` });
  }

  /** Final state reached: free the worker (RUN-2) and tell the manager. */
  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.disarmAbandon();
    this.commands = [];
    const host = this.host;
    this.host = null;
    void host?.terminate();
    this.init.onEnded(this);
  }

  /** Shutdown and DELETE: terminate without waiting for a final state. */
  async dispose(): Promise<void> {
    this.cancel();
    const host = this.host;
    this.host = null;
    await host?.terminate();
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

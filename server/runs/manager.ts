/**
 * All runs of the server: creation (config validated by the run's kind before anything starts), a concurrency limit
 * with a FIFO queue (queued runs stay `created` and are told their queue position), and bounded retention of ended
 * runs so a long-lived server does not grow without bound.
 *
 * Invariants: MGR-1 at most `maxConcurrent` runs hold a worker; MGR-2 a run leaves the active set exactly once,
 * when it reaches a final state, and the next queued run is launched then.
 */
import { randomBytes } from "node:crypto";
import type { ServerMetrics } from "../metrics/registry.ts";
import type { Speed } from "../protocol.ts";
import type { TraceStore } from "../traces/store.ts";
import type { KindRegistry } from "./kinds/registry.ts";
import { Run, type StartMode } from "./run.ts";

export interface RunManagerOptions {
  kinds: KindRegistry;
  traces: TraceStore;
  metrics: ServerMetrics;
  maxConcurrent: number;
  /** Ended runs kept for GET (oldest forgotten first). */
  maxEndedRuns: number;
  /** Queued (not yet started) runs accepted; more → 503-style UserError. */
  maxQueued: number;
  tickMs: number;
  workerMemoryMb: number;
  abandonAfterMs: number;
  checkpointEveryMs: number;
}

export interface CreateRunInput {
  kind: string;
  config?: Record<string, unknown>;
  speed?: Speed;
  start?: StartMode;
}

export class QueueFullError extends Error {}

export class RunManager {
  readonly runs = new Map<string, Run>();
  private readonly active = new Set<Run>();
  private readonly queue: Run[] = [];
  private readonly ended: Run[] = [];

  constructor(readonly opts: RunManagerOptions) {}

  async create(input: CreateRunInput): Promise<Run> {
    const kind = this.opts.kinds.get(input.kind);
    if (this.queue.length >= this.opts.maxQueued)
      throw new QueueFullError(`too many queued runs (${this.queue.length}); try again when some have finished`);
    const prepared = await kind.prepare(input.config ?? {}, { traces: this.opts.traces });
    const id = `run-${randomBytes(5).toString("hex")}`;
    const run = new Run({
      id,
      kind,
      prepared,
      speed: input.speed ?? 10,
      start: input.start ?? "on-connect",
      metrics: this.opts.metrics,
      tickMs: this.opts.tickMs,
      workerMemoryMb: this.opts.workerMemoryMb,
      abandonAfterMs: this.opts.abandonAfterMs,
      checkpointEveryMs: this.opts.checkpointEveryMs,
      onEnded: (r) => this.onEnded(r),
    });
    this.runs.set(id, run);
    this.opts.metrics.addRun(id, prepared.modelName, prepared.cacheInfo);
    this.queue.push(run);
    this.schedule();
    this.updateStateMetrics();
    return run;
  }

  get(id: string): Run | undefined {
    return this.runs.get(id);
  }

  /** DELETE: cancel when live, then forget the run and its metric series. */
  async remove(id: string): Promise<Run | undefined> {
    const run = this.runs.get(id);
    if (!run) return undefined;
    await run.dispose();
    this.runs.delete(id);
    const qi = this.queue.indexOf(run);
    if (qi >= 0) this.queue.splice(qi, 1);
    const ei = this.ended.indexOf(run);
    if (ei >= 0) this.ended.splice(ei, 1);
    this.opts.metrics.removeRun(id);
    for (const c of run.conns) c.close(1000, "run deleted");
    this.updateQueuePositions();
    this.updateStateMetrics();
    return run;
  }

  list(): Run[] {
    return [...this.runs.values()];
  }

  get numActive(): number {
    return this.active.size;
  }

  async close(): Promise<void> {
    this.queue.length = 0;
    await Promise.all([...this.runs.values()].map((r) => r.dispose()));
  }

  private schedule(): void {
    while (this.active.size < this.opts.maxConcurrent && this.queue.length > 0) {
      const run = this.queue.shift()!;
      if (run.isFinal) continue;
      this.active.add(run);
      void run.launch();
    }
    this.updateQueuePositions();
  }

  private updateQueuePositions(): void {
    this.queue.forEach((run, i) => {
      if (run.queuePosition !== i + 1) {
        run.queuePosition = i + 1;
        run.broadcastState({ message: `queued at position ${i + 1}: ${this.opts.maxConcurrent} run(s) execute at a time` });
      }
    });
  }

  private onEnded(run: Run): void {
    this.active.delete(run);
    const qi = this.queue.indexOf(run);
    if (qi >= 0) this.queue.splice(qi, 1);
    this.ended.push(run);
    while (this.ended.length > this.opts.maxEndedRuns) {
      const old = this.ended.shift()!;
      this.runs.delete(old.id);
      this.opts.metrics.removeRun(old.id);
    }
    this.schedule();
    this.updateStateMetrics();
  }

  /** Refreshes `vramscope_runs{state}` (also called on every scrape). */
  updateStateMetrics(): void {
    const counts: Record<string, number> = {};
    for (const r of this.runs.values()) counts[r.state] = (counts[r.state] ?? 0) + 1;
    this.opts.metrics.setRunStates(counts);
  }
}


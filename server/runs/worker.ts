/**
 * The worker thread of one run: loads the kind's simulation module, then answers the host's requests one at a time
 * (init, advance, step, seek, detail, blocks) with one `batch` each. Nothing here touches sockets or timers: pacing
 * is the host's (the machine's ticker), so a paused run's worker is idle and a cancelled one is simply terminated.
 *
 * Seek relies on determinism: a backward seek resumes from the nearest earlier checkpoint (checkpoints.ts; kinds
 * without them rebuild from the input) and re-simulates silently to the target (the viewer already has those
 * events); a forward seek simply runs ahead, streaming what it passes.
 *
 * An exception here is reported as `fatal` with its message and the thread exits; the host fails the run.
 */
import { parentPort } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import type { RecordingFactory, Simulation, SimulationFactory } from "./kinds/types.ts";
import { BatchCollector } from "./collector.ts";
import { Checkpoints, ReportedMetrics } from "./checkpoints.ts";
import { emptyCounts, type ExportReply, type HostRequest, type WorkerBatch, type WorkerReply } from "./worker-messages.ts";

if (!parentPort) throw new Error("server/runs/worker.ts must run in a worker thread");
const port = parentPort;

let factory: SimulationFactory;
let input: unknown;
let blocks = false;
let sim: Simulation;
let collector: BatchCollector;
let lastT = 0;
/** Wall ms between two live summaries (WorkerBatch.live). */
const LIVE_SUMMARY_MS = 500;
let lastLiveAt = -Infinity;
let checkpointEveryMs = 250;
let checkpoints = new Checkpoints(checkpointEveryMs);
/** Metrics reported to the host on the current timeline (a rewind to a checkpoint re-reports them from zero). */
const reported = new ReportedMetrics();
/** Wall ms spent simulating (advance, step, seek), which spaces the checkpoints. */
let busyMs = 0;
/** Start of the simulating op in progress (for the busy time so far inside a long one). */
let opStart = 0;

async function build(): Promise<void> {
  collector = new BatchCollector();
  collector.keepBlocks = blocks;
  sim = await factory(input, { blocks, onEvent: collector.onEvent });
  lastT = sim.now;
  lastCounters = { prefixQueries: 0, prefixHits: 0, preemptions: 0 };
}

function stepOnce(): boolean {
  const ok = sim.step();
  if (ok && !collector.sawMemoryEvent) {
    const s = sim.snapshot();
    if (s) collector.addSnapshot(s);
  }
  return ok;
}

/**
 * Steps until simulated time `t` (or the end). A busy engine's last step may end past `t` (steps are indivisible);
 * an idle one stops exactly at `t` when the next arrival is later (instead of jumping to it).
 */
function runTo(t: number, deadline = Infinity): void {
  let now: number;
  while (!sim.finished && sim.now < t && (now = performance.now()) < deadline) {
    // A long op (a far forward seek, a max-speed slice) checkpoints on its way, not only at its end.
    if (collector.streaming && checkpoints.due(busyMs + (now - opStart))) maybeCheckpoint(now);
    // Nothing left at all (next = Infinity): step, so the engine notices it has finished.
    const next = sim.nextEventTime ? sim.nextEventTime() : sim.now;
    if (sim.idleTo && next > t && next !== Number.POSITIVE_INFINITY) {
      sim.idleTo(t);
      const s = sim.snapshot();
      if (s) collector.addSnapshot(s);
      break;
    }
    if (!stepOnce()) break;
  }
}

/** Last values of the engine's own counters (Simulation.counters), for per-batch deltas. */
let lastCounters = { prefixQueries: 0, prefixHits: 0, preemptions: 0 };

/** Replaces event-derived counter deltas by the engine's own, where it keeps them. */
function engineCounters(metrics: WorkerBatch["metrics"]): void {
  if (!sim.counters) return;
  const c = sim.counters();
  metrics.prefixQueries = c.prefixQueries - lastCounters.prefixQueries;
  metrics.prefixHits = c.prefixHits - lastCounters.prefixHits;
  metrics.preemptions = c.preemptions - lastCounters.preemptions;
  lastCounters = c;
}

function batch(id: number, extra: Partial<WorkerBatch> = {}): WorkerBatch {
  const parts = collector.take();
  engineCounters(parts.metrics);
  const t1 = sim.now;
  const out: WorkerBatch = {
    op: "batch",
    id,
    t0: Math.min(lastT, t1),
    t1,
    ...parts,
    last: collector.last,
    finished: sim.finished,
    ...extra,
  };
  // The live report sorts every finished request's latencies: twice a wall second is enough for a reader.
  const wall = performance.now();
  if (sim.liveSummary && !sim.finished && wall - lastLiveAt >= LIVE_SUMMARY_MS) {
    lastLiveAt = wall;
    out.live = sim.liveSummary();
    out.liveT = t1;
  }
  const points = sim.drainExtra?.();
  if (points && points.length) out.extra = points;
  if (sim.finished) out.result = sim.result();
  lastT = t1;
  if (out.rewoundTo !== undefined) reported.replace(out.metrics);
  else reported.add(out.metrics);
  return out;
}

function blockMap(): WorkerBatch["blocks"] {
  if (!sim.blockStates) return undefined;
  const { state, owner, tables, cachedInUse } = sim.blockStates();
  return { t: sim.now, state: Array.from(state), owner: Array.from(owner), ...(tables ? { tables } : {}), ...(cachedInUse ? { cachedInUse } : {}) };
}

/**
 * Silently re-simulates to `t` from the latest checkpoint before it, or rebuilds from the input when there is none
 * or when `keepMetrics` is false (the engine's detail changes: the copies lack it). With `keepMetrics` the next batch
 * reports every metric from t = 0 (a rewind resets the run's /metrics series), otherwise the re-simulation's are
 * dropped.
 */
async function resimulate(t: number, keepMetrics: boolean): Promise<number> {
  const cp = keepMetrics && sim.restore ? checkpoints.atOrBefore(t) : null;
  const from = cp ? cp.t : 0;
  if (cp) {
    sim.restore!(cp.sim);
    collector.restoreRequests(cp.requests);
    collector.last = cp.last;
    collector.metrics = reported.upTo(cp.reported);
    // The engine's own counters are cumulative from t = 0: report them whole (as after a rebuild).
    lastCounters = { prefixQueries: 0, prefixHits: 0, preemptions: 0 };
  } else {
    if (!keepMetrics) checkpoints = new Checkpoints(checkpointEveryMs);
    await build();
  }
  collector.streaming = false;
  runTo(t);
  collector.streaming = true;
  // Frame counts describe streamed time only; the silent stretch is not part of any frame.
  collector.counts = emptyCounts();
  if (!keepMetrics) {
    collector.take();
    // The re-simulated counters were already reported before the rebuild.
    if (sim.counters) lastCounters = sim.counters();
  }
  lastT = sim.now;
  return from;
}

async function handle(req: HostRequest): Promise<WorkerReply> {
  if (req.op !== "init" && req.op !== "export" && !sim) throw new Error(`worker got "${req.op}" before "init"`);
  if (req.op !== "advance" && req.op !== "step" && req.op !== "seek") return handleOp(req);
  opStart = performance.now();
  try {
    return await handleOp(req);
  } finally {
    busyMs += performance.now() - opStart;
    opStart = 0;
  }
}

async function handleOp(req: HostRequest): Promise<WorkerReply> {
  switch (req.op) {
    case "init": {
      const mod = (await import(req.simModule)) as { createSimulation?: SimulationFactory };
      if (typeof mod.createSimulation !== "function")
        throw new Error(`run kind "${req.kind}": ${req.simModule} exports no createSimulation`);
      factory = mod.createSimulation;
      input = req.input;
      blocks = req.blocks;
      checkpointEveryMs = req.checkpointEveryMs;
      checkpoints = new Checkpoints(checkpointEveryMs);
      await build();
      const first = sim.snapshot();
      if (first) collector.addSnapshot(first);
      return batch(req.id, blocks ? { blocks: blockMap() } : {});
    }
    case "advance":
      runTo(req.toT, performance.now() + req.budgetMs);
      return batch(req.id);
    case "step": {
      const deadline = performance.now() + req.budgetMs;
      for (let i = 0; i < req.n && !sim.finished && performance.now() < deadline; i++) if (!stepOnce()) break;
      return batch(req.id);
    }
    case "seek": {
      if (req.t < sim.now) {
        collector.take();
        const from = await resimulate(req.t, true);
        const b = batch(req.id, { rewoundTo: sim.now, resumedFrom: from });
        b.t0 = sim.now;
        b.blocks = blocks ? blockMap() : undefined;
        return b;
      }
      runTo(req.t, performance.now() + req.budgetMs);
      return batch(req.id, blocks ? { blocks: blockMap() } : {});
    }
    case "detail": {
      if (req.blocks && !blocks) {
        blocks = true;
        if (sim.setBlocks) {
          // In place: the viewer starts from the block map (with each request's tables) taken right now.
          sim.setBlocks(true);
          collector.keepBlocks = true;
          return batch(req.id, { blocks: blockMap() });
        }
        const pending = collector.take();
        await resimulate(sim.now, false);
        // Keep what was gathered before the rebuild (events and metrics not yet sent).
        Object.assign(collector, { events: pending.events, snapshots: pending.snapshots, counts: pending.counts, metrics: pending.metrics });
        return batch(req.id, { blocks: blockMap() });
      }
      if (!req.blocks) {
        blocks = false;
        collector.keepBlocks = false;
        sim.setBlocks?.(false);
      }
      return batch(req.id);
    }
    case "blocks":
      return batch(req.id, { blocks: blockMap() });
    case "export":
      return exportRun(req);
  }
}

async function exportRun(req: Extract<HostRequest, { op: "export" }>): Promise<ExportReply> {
  const mod = (await import(req.simModule)) as { createRecording?: RecordingFactory };
  if (typeof mod.createRecording !== "function") throw new Error("this run kind has no export");
  const rec = await mod.createRecording(req.input, req.untilT);
  const ex = await import("../../sim/export/index.ts");
  switch (req.format) {
    case "json":
      return { op: "export", id: req.id, body: JSON.stringify(ex.toJsonSummary(rec), null, 2), contentType: "application/json", extension: "json" };
    case "csv": {
      const csv = ex.toCsv(rec);
      const body = req.table === "requests" && csv.requests !== null ? csv.requests : csv.memory;
      return { op: "export", id: req.id, body, contentType: "text/csv; charset=utf-8", extension: "csv" };
    }
    case "perfetto":
      return { op: "export", id: req.id, body: JSON.stringify(ex.toPerfetto(rec)), contentType: "application/json", extension: "perfetto.json" };
    case "prometheus": {
      const { toPrometheusText } = await import("../../sim/export/prometheus.ts");
      const body = await toPrometheusText(rec, { labels: { run_id: req.runId } });
      return { op: "export", id: req.id, body, contentType: "text/plain; version=0.0.4; charset=utf-8", extension: "prom" };
    }
  }
}

/**
 * Takes a checkpoint when one is due: after a batch is posted (the host already has it, so the copy delays the next
 * one, not this one), and on the way through a long op (`inOp` = the wall time now; busy time then includes the op
 * so far).
 * Not during a silent re-simulation: its collector holds a different tally. The metrics mark counts what the
 * collector holds but has not reported yet: it will be, in this order, with the op's batch.
 */
function maybeCheckpoint(inOp?: number): void {
  if (!sim || !sim.checkpoint || sim.finished || !collector.streaming) return;
  const busy = busyMs + (inOp !== undefined ? inOp - opStart : 0);
  if (!checkpoints.due(busy)) return;
  const start = performance.now();
  const copy = sim.checkpoint();
  const cp = { t: sim.now, sim: copy.state, bytes: copy.bytes, requests: collector.saveRequests(), last: collector.last, reported: reported.mark(collector.metrics) };
  const cost = performance.now() - start;
  // Inside an op the copy is counted with the op's own time; after one, here.
  if (inOp === undefined) busyMs += cost;
  checkpoints.add(cp, busy + cost, cost);
}

let queue: Promise<void> = Promise.resolve();
port.on("message", (req: HostRequest) => {
  queue = queue.then(async () => {
    try {
      port.postMessage(await handle(req));
      if (req.op !== "export") maybeCheckpoint();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      port.postMessage({ op: "fatal", id: req.id, message } satisfies WorkerReply);
      port.close();
      process.exit(1);
    }
  });
});

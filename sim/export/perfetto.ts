import type { EngineEvent, MemorySnapshot } from "../serving/types.ts";
import type { AnyRecording, Recording, TimelineRecording } from "./recording.ts";

/**
 * Chrome Trace Event Format (the JSON that ui.perfetto.dev and chrome://tracing open), per the format's spec
 * ("Trace Event Format", Google, 2016) and STYLE.md §15:
 * - engine steps are complete (`X`) slices on one thread — they never overlap, because a step starts at or after
 *   the previous one's end and timestamps are rounded monotonically;
 * - each request's lifetime is a nestable async slice (`b`/`e`, cat "request", id = request id) with its phases
 *   queued → prefill → decode, and "preempted" while it waits to be recomputed, nested inside;
 * - memory components are counters (`C`): one "memory (GiB)" counter with an arg per component (a track each in
 *   Perfetto, a stacked chart in chrome://tracing), plus KV usage and running/waiting, emitted when a value changes;
 * - each preemption → resume is a flow (`s` → `f`, bound to the enclosing step slices);
 * - process and thread names come from metadata (`M`) events.
 * Timestamps are integer microseconds of simulated time; events are sorted by ts (metadata first), ties kept in
 * emission order so every `e` follows its `b`.
 */
export interface TraceEvent {
  name: string;
  ph: "X" | "b" | "e" | "C" | "s" | "f" | "M" | "i";
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  id?: number | string;
  bp?: "e";
  s?: "g" | "p" | "t";
  args?: Record<string, unknown>;
}

export interface TraceEventFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms" | "ns";
  otherData: Record<string, unknown>;
}

const PID = 1;
const TID_STEPS = 1;
const TID_REQUESTS = 2;
const TID_PHASES = 3;
const TID_EVENTS = 4;

/** Seconds → integer µs. Monotone, so ordered times stay ordered. */
export function us(t: number): number {
  return Math.round(t * 1e6);
}

export function toPerfetto(rec: AnyRecording): TraceEventFile {
  return rec.kind === "serving" ? servingTrace(rec) : timelineTrace(rec);
}

function metadata(label: string, threads: [number, string][]): TraceEvent[] {
  const out: TraceEvent[] = [{ name: "process_name", ph: "M", ts: 0, pid: PID, tid: 0, args: { name: label } }];
  for (const [tid, name] of threads) {
    out.push({ name: "thread_name", ph: "M", ts: 0, pid: PID, tid, args: { name } });
    out.push({ name: "thread_sort_index", ph: "M", ts: 0, pid: PID, tid, args: { sort_index: tid } });
  }
  return out;
}

function finish(meta: TraceEvent[], body: TraceEvent[], otherData: Record<string, unknown>): TraceEventFile {
  // Array.prototype.sort is stable (ES2019), so same-ts events keep emission order.
  body.sort((a, b) => a.ts - b.ts);
  return { traceEvents: [...meta, ...body], displayTimeUnit: "ms", otherData };
}

/**
 * Counter events, one per counter name, emitted only when one of its values changed (and always the first). A
 * counter with several args is one event per instant: chrome://tracing stacks its series (memory components stack
 * up to the reserved total), and Perfetto gives each arg its own track, named "<counter> <arg>".
 */
class Counters {
  private last = new Map<string, string>();
  constructor(private readonly out: TraceEvent[]) {}
  set(name: string, ts: number, values: Record<string, number>): void {
    const key = JSON.stringify(values);
    if (this.last.get(name) === key) return;
    this.last.set(name, key);
    this.out.push({ name, ph: "C", ts, pid: PID, tid: 0, cat: "memory", args: { ...values } });
  }
}

const GiB = 2 ** 30;
/** Per snapshot: the memory components (GiB, stacked), KV usage and the request counts. */
function snapshotCounters(s: MemorySnapshot): [string, Record<string, number>][] {
  return [
    [
      "memory (GiB)",
      {
        weights: s.weightsBytes / GiB,
        activation_reserve: s.activationBytes / GiB,
        non_torch: s.nonTorchBytes / GiB,
        kv_used: s.kvUsedBytes / GiB,
        kv_cached_free: s.kvCachedFreeBytes / GiB,
        kv_free: s.kvFreeBytes / GiB,
      },
    ],
    ["KV usage", { fraction: s.kvUsage }],
    ["requests", { running: s.numRunning, waiting: s.numWaiting }],
  ];
}

type Phase = "queued" | "prefill" | "decode" | "preempted";

interface ReqState {
  phase: Phase | null;
  firstToken: boolean;
  /** Flow id of the preemption awaiting its resume. */
  pendingFlow: number | null;
}

function servingTrace(rec: Recording): TraceEventFile {
  const body: TraceEvent[] = [];
  const counters = new Counters(body);
  for (const s of rec.snapshots) for (const [name, values] of snapshotCounters(s)) counters.set(name, us(s.t), values);

  const reqs = new Map<number, ReqState>();
  let flowId = 0;
  const open = (reqId: number, ts: number, phase: Phase, st: ReqState) => {
    st.phase = phase;
    body.push({ name: phase, ph: "b", cat: "request", id: reqId, ts, pid: PID, tid: TID_REQUESTS });
  };
  const close = (reqId: number, ts: number, st: ReqState) => {
    if (st.phase === null) return;
    body.push({ name: st.phase, ph: "e", cat: "request", id: reqId, ts, pid: PID, tid: TID_REQUESTS });
    st.phase = null;
  };
  const begin = (reqId: number, ts: number, args: Record<string, unknown>): ReqState => {
    const st: ReqState = { phase: null, firstToken: false, pendingFlow: null };
    reqs.set(reqId, st);
    body.push({ name: `req-${reqId}`, ph: "b", cat: "request", id: reqId, ts, pid: PID, tid: TID_REQUESTS, args });
    return st;
  };
  const end = (reqId: number, ts: number, st: ReqState, args?: Record<string, unknown>) => {
    close(reqId, ts, st);
    body.push({ name: `req-${reqId}`, ph: "e", cat: "request", id: reqId, ts, pid: PID, tid: TID_REQUESTS, ...(args ? { args } : {}) });
    reqs.delete(reqId);
  };

  let lastTs = 0;
  for (const e of rec.events as EngineEvent[]) {
    const ts = us(e.t);
    lastTs = Math.max(lastTs, ts);
    switch (e.type) {
      case "step": {
        const endTs = us(e.end);
        lastTs = Math.max(lastTs, endTs);
        const kind = e.numPrefillTokens > 0 ? (e.numDecodeTokens > 0 ? "mixed step" : "prefill step") : "decode step";
        body.push({
          name: kind,
          ph: "X",
          cat: "engine",
          ts,
          dur: endTs - ts,
          pid: PID,
          tid: TID_STEPS,
          args: {
            stepIndex: e.stepIndex,
            numScheduledTokens: e.numScheduledTokens,
            numPrefillTokens: e.numPrefillTokens,
            numDecodeTokens: e.numDecodeTokens,
            numRunning: e.numRunning,
            numWaiting: e.numWaiting,
          },
        });
        break;
      }
      case "arrival": {
        const st = begin(e.reqId, ts, { promptTokens: e.promptTokens, outputTokens: e.outputTokens });
        open(e.reqId, ts, "queued", st);
        break;
      }
      case "admitted": {
        const st = reqs.get(e.reqId) ?? begin(e.reqId, ts, {});
        close(e.reqId, ts, st);
        open(e.reqId, ts, st.firstToken ? "decode" : "prefill", st);
        if (e.resumed && st.pendingFlow !== null) {
          body.push({ name: "preempted → resumed", ph: "f", bp: "e", cat: "preemption", id: st.pendingFlow, ts, pid: PID, tid: TID_STEPS });
          st.pendingFlow = null;
        }
        break;
      }
      case "first_token": {
        const st = reqs.get(e.reqId);
        if (!st) break;
        st.firstToken = true;
        if (st.phase === "prefill") {
          close(e.reqId, ts, st);
          open(e.reqId, ts, "decode", st);
        }
        break;
      }
      case "preempted": {
        const st = reqs.get(e.reqId);
        if (!st) break;
        close(e.reqId, ts, st);
        open(e.reqId, ts, "preempted", st);
        const id = ++flowId;
        st.pendingFlow = id;
        body.push({
          name: "preempted → resumed",
          ph: "s",
          cat: "preemption",
          id,
          ts,
          pid: PID,
          tid: TID_STEPS,
          args: { reqId: e.reqId, lostTokens: e.lostTokens },
        });
        break;
      }
      case "finished": {
        const st = reqs.get(e.reqId);
        if (st) end(e.reqId, ts, st);
        break;
      }
      case "rejected": {
        const st = reqs.get(e.reqId) ?? begin(e.reqId, ts, {});
        end(e.reqId, ts, st, { rejected: e.reason });
        break;
      }
      default:
        break;
    }
  }
  // A run cut short (server cancel, seek) leaves requests open: close them at the last timestamp seen.
  for (const [reqId, st] of reqs) end(reqId, lastTs, st, { unfinished: true });
  // A flow whose resume never came would dangle: drop its start.
  const finished = new Set(body.filter((e) => e.ph === "f").map((e) => e.id));
  const kept = body.filter((e) => e.ph !== "s" || finished.has(e.id));

  const c = rec.config;
  return finish(
    metadata(rec.label, [
      [TID_STEPS, "engine steps"],
      [TID_REQUESTS, "requests"],
    ]),
    kept,
    {
      generator: "vramscope",
      model: c.model.name,
      gpu: c.gpu.name,
      tensorParallelSize: c.tensorParallelSize,
      gpuMemoryUtilization: c.gpuMemoryUtilization,
      numGpuBlocks: rec.budget.numGpuBlocks,
      blockSize: rec.budget.blockSize,
      timeBase: "simulated seconds × 1e6 (µs)",
    },
  );
}

/** Training / RL: a counter track per component, and the phases and events as slices on two tracks. */
function timelineTrace(rec: TimelineRecording): TraceEventFile {
  const body: TraceEvent[] = [];
  const counters = new Counters(body);
  const toTs = (t: number) => (rec.timeUnit === "s" ? us(t) : Math.round(t * 1000));
  const names = new Set<string>();
  for (const s of rec.samples) for (const k of Object.keys(s.components)) names.add(k);
  const n = rec.samples.length;
  for (let i = 0; i < n; i++) {
    const s = rec.samples[i];
    const ts = toTs(s.t);
    const next = i + 1 < n ? toTs(rec.samples[i + 1].t) : ts + (rec.timeUnit === "s" ? 1000 : 1000);
    counters.set("memory (GiB)", ts, Object.fromEntries([...names].map((k) => [k, (s.components[k] ?? 0) / GiB])));
    counters.set("total memory", ts, { GiB: Object.values(s.components).reduce((a, b) => a + b, 0) / GiB });
    body.push({ name: s.label, ph: "X", cat: "event", ts, dur: Math.max(0, next - ts), pid: PID, tid: TID_EVENTS, args: { track: s.track ?? null } });
  }
  // Phases: maximal runs of equal `phase`.
  let i = 0;
  while (i < n) {
    const phase = rec.samples[i].phase;
    let j = i;
    while (j + 1 < n && rec.samples[j + 1].phase === phase) j++;
    if (phase !== undefined) {
      const ts = toTs(rec.samples[i].t);
      const endTs = j + 1 < n ? toTs(rec.samples[j + 1].t) : toTs(rec.samples[j].t) + 1000;
      body.push({ name: phase, ph: "X", cat: "phase", ts, dur: Math.max(0, endTs - ts), pid: PID, tid: TID_PHASES });
    }
    i = j + 1;
  }
  return finish(
    metadata(rec.label, [
      [TID_PHASES, "phases"],
      [TID_EVENTS, "events"],
    ]),
    body,
    { generator: "vramscope", timeBase: rec.timeUnit === "s" ? "seconds × 1e6 (µs)" : "one event per ms (ordinal, not timed)" },
  );
}

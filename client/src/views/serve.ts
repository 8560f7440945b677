/**
 * The Serve view: one replay run streamed from the server, drawn as three linked views — the memory timeline
 * (brush a time range to focus the Gantt on it), the KV block map, the request Gantt with running/waiting counts —
 * plus live metrics, run controls and the config panel. On open it starts the default run (the embedded Azure
 * conversation trace on the preset model/GPU, or whatever config the URL holds).
 */
import * as d3 from "d3";
import { ServeStore } from "../data/serve-store.ts";
import { RunStream } from "../data/run-stream.ts";
import { postJson, deleteRun, ApiError, cancelOnPageHide } from "../data/api.ts";
import { memoryArea, MEMORY_KEYS, MEMORY_LABELS } from "../charts/memory-area.ts";
import { legendHtml } from "../charts/stacked-area.ts";
import { blockMap } from "../charts/block-map.ts";
import { requestGantt } from "../charts/request-gantt.ts";
import { lineChart } from "../charts/line-chart.ts";
import { downsampleMax } from "../charts/downsample.ts";
import { tooltipTable } from "../charts/tooltip.ts";
import { runControls } from "../ui/run-controls.ts";
import { serveConfigPanel, type ServeConfigValue } from "../ui/serve-config.ts";
import { serveMetrics } from "../ui/serve-metrics.ts";
import { html, $, setText } from "../ui/dom.ts";
import { getParam, patchParams } from "../ui/url-state.ts";
import { servingComponentColors, markerColors, ganttColors, okabeIto, requestHue } from "../ui/palette.ts";
import { int, esc } from "../ui/format.ts";
import type { View } from "./view.ts";
import type { ClientMessage } from "../../../server/protocol.ts";
import type { StreamMessage } from "../data/frame-pack.ts";

const GANTT_WINDOW_S = 30;
/** Above this many KV blocks the view subscribes without per-block events and draws the counts only. */
export const MAX_DETAIL_BLOCKS = 150_000;

export function serveView(opts: { setConn(text: string, cls?: string): void }): View {
  const el = html(`
    <div class="grid-serve" data-view="serve">
      <div class="col" id="serve-main">
        <div id="serve-controls"></div>
        <section class="panel" aria-labelledby="mem-h">
          <div class="panel-head"><h2 id="mem-h">Memory timeline</h2><span class="muted" id="mem-facts"></span>
            <span class="aside" id="mem-note">drag to select a time range · hover for exact bytes</span></div>
          <div class="legend" id="mem-legend"></div>
          <div class="chart" id="mem-chart" data-testid="memory-timeline"></div>
        </section>
        <div class="two">
          <section class="panel" aria-labelledby="blk-h">
            <div class="panel-head"><h2 id="blk-h">KV block map</h2><span class="muted" id="blk-hl" aria-live="polite"></span><span class="aside num" id="blk-count"></span></div>
            <div class="legend" id="blk-legend"></div>
            <div class="chart" id="blk-chart" data-testid="block-map"></div>
          </section>
          <section class="panel" aria-labelledby="gantt-h">
            <div class="panel-head"><h2 id="gantt-h">Requests</h2><span class="aside" id="gantt-note"></span></div>
            <div class="legend" id="gantt-legend"></div>
            <div class="chart" id="gantt-chart" data-testid="gantt"></div>
            <div class="chart" id="counts-chart"></div>
          </section>
        </div>
        <section class="panel" aria-labelledby="log-h">
          <div class="panel-head"><h2 id="log-h">Event log</h2><span class="muted">preemptions, evictions, rejections (latest first)</span><span class="aside" id="exports"></span></div>
          <div id="event-log" class="loglines" style="max-height:120px;overflow:auto" tabindex="0" role="log" aria-label="event log"></div>
        </section>
      </div>
      <div class="col" id="serve-side"></div>
    </div>`);
  const store = new ServeStore();
  let stream: RunStream | null = null;
  let ownRunId: string | null = null;
  let selection: [number, number] | null = null;
  let destroyed = false;
  let aggregateBlocks = false;
  let exportsFor: string | null = null;
  let startError = "";
  const send = (m: ClientMessage) => stream?.send(m);
  const controls = runControls(send, (s) => patchParams({ speed: s }, { speed: "10" }));
  $(el, "#serve-controls").replaceWith(controls.el);
  const metrics = serveMetrics();
  const config = serveConfigPanel({ onApply: (v) => void start(v) });
  $(el, "#serve-side").append(metrics.el, config.el);

  $(el, "#mem-legend").innerHTML =
    legendHtml(MEMORY_KEYS.map((k) => ({ label: MEMORY_LABELS[k], color: k === "kvFreeBytes" ? "var(--cell-free)" : servingComponentColors[k] }))) +
    legendHtml([
      { label: "budget (util × total)", color: "var(--budget-line)", outline: true },
      { label: "device total", color: okabeIto.vermillion, outline: true },
      { label: "▲ preemption", color: markerColors.preemption },
      { label: "| eviction", color: markerColors.eviction },
    ]);
  $(el, "#blk-legend").innerHTML = legendHtml([
    { label: "free", color: "var(--cell-free)" },
    { label: "in use (hue = request)", color: requestHue(0) },
    { label: "cached-free (evictable)", color: okabeIto.skyBlue },
    { label: "flash: eviction", color: "var(--text)" },
    { label: "flash: prefix hit", color: okabeIto.bluishGreen },
  ]);
  $(el, "#gantt-legend").innerHTML = legendHtml([
    { label: "waiting", color: ganttColors.waiting, outline: true },
    { label: "prefill", color: ganttColors.prefill },
    { label: "decode", color: ganttColors.decode },
    { label: "preempted", color: ganttColors.preempted },
    { label: "recomputing", color: ganttColors.recomputing },
    { label: "TTFT", color: ganttColors.ttft },
    { label: "finish", color: "var(--text)" },
  ]);

  const mem = memoryArea().snapshotAt((t) => store.snapshotAt(t));
  // Hover answers "why": the preemption and eviction bursts within ±1 % of the visible span around the pointer.
  mem.why((s) => {
    const span = Math.max(1, store.t) * 0.01;
    let pre = 0, ev = 0;
    for (const m of store.markers) {
      if (Math.abs(m.t - s.t) > span) continue;
      if (m.kind === "preemption") pre += m.count;
      else ev += m.count;
    }
    const rows: [string, string][] = [];
    if (pre) rows.push([`preempted within ±${span.toFixed(1)} s`, `${int(pre)} requests`]);
    if (ev) rows.push([`evicted within ±${span.toFixed(1)} s`, `${int(ev)} blocks`]);
    return rows;
  });
  mem.height(250).brush((sel) => {
    selection = sel;
    drawAll(true);
  });
  const blocks = blockMap().blocks(store.blocks).height(262);
  const gantt = requestGantt().tracker(store.requests).height(230).rowHeight(5);
  gantt.onHover((reqId) => {
    if (blocks.highlight() === reqId) return;
    blocks.highlight(reqId);
    $(el, "#blk-hl").textContent = reqId === null ? "" : `highlighting req-${reqId}'s blocks`;
  });
  const counts = lineChart().height(120).integerY(true).yFormat((v) => String(Math.round(v))).xLabel("simulated time (s)").yLabel("requests").title("Running and waiting requests over time").step(true);
  counts.hover((t) => {
    const s = store.snapshotAt(t);
    return s ? tooltipTable(`t = ${s.t.toFixed(2)} s`, [["running", int(s.numRunning), okabeIto.blue], ["waiting", int(s.numWaiting), okabeIto.orange]]) : null;
  });

  /** Milliseconds spent per part (sum, calls): read by the e2e frame-rate test and the bench. */
  const timings: Record<string, [number, number]> = {};
  const timed = <R>(name: string, f: () => R): R => {
    const t0 = performance.now();
    const r = f();
    const tm = (timings[name] ??= [0, 0]);
    tm[0] += performance.now() - t0;
    tm[1]++;
    return r;
  };
  let drawnVersion = -1;
  let lastMemDraw = -Infinity;
  let lastBlockDraw = -Infinity;
  let lastGanttDraw = -Infinity;
  let messagesSinceFrame = 0;
  // Store versions each costly part last drew, so a part redraws only when its data changed.
  let memVersion = -1;
  let ganttVersion = -1;
  // The mapped markers, per store marker (the store appends; a label string per marker per frame was wasted work).
  const markerCache = new WeakMap<object, { x: number; color: string; label: string; shape: "triangle" | "tick" }>();
  // Widths are read once per resize (a layout read per chart per frame would force a layout after every write).
  let widths: Record<string, number> | null = null;
  const measure = () => {
    const w = (sel: string) => Math.floor($(el, sel).clientWidth);
    widths = { mem: w("#mem-chart"), blk: w("#blk-chart"), gantt: w("#gantt-chart"), counts: w("#counts-chart") };
    mem.width(widths.mem || null);
    blocks.width(widths.blk || null);
    gantt.width(widths.gantt || null);
    counts.width(widths.counts || null);
  };
  function drawAll(force = false) {
    if (destroyed) return;
    if (!widths || force) measure();
    const now = performance.now();
    // A frame that already parsed and applied a streamed message has spent much of its budget: the costly parts
    // below wait for a quiet frame (the stream sends ~10 messages a second, so the next one is rarely far).
    const busy = messagesSinceFrame > 0;
    messagesSinceFrame = 0;
    const running = store.state === "running";
    // Flashes fade smoothly enough at 25 redraws a second; the other animation frames are left to the compositor.
    if (force || now - lastBlockDraw > 40) {
      lastBlockDraw = now;
      timed("blockMap", () => blocks($(el, "#blk-chart"), now));
      if (running && !force) return; // the block map had this frame
    }
    if (force || store.version !== drawnVersion) {
      drawnVersion = store.version;
      drawText();
    }
    // The costly parts (SVG timeline, Gantt + counts, metrics' histograms) are spread over animation frames: at
    // most one of them per frame while streaming, each at a capped rate, so no single frame overruns its budget.
    const memDue = store.version !== memVersion && (!running || now - lastMemDraw > 250);
    const ganttDue = store.version !== ganttVersion && (!running || now - lastGanttDraw > 200);
    if (force || !running) {
      if (force || memDue) drawMem(now);
      if (force || ganttDue) drawGantt(now);
      timed("metrics", () => metrics.update(store));
      return;
    }
    // …unless a part is overdue (a stream whose messages land in every frame must not starve the charts).
    if (busy && !(memDue && now - lastMemDraw > 500) && !(ganttDue && now - lastGanttDraw > 400)) return;
    if (memDue && now - lastMemDraw >= now - lastGanttDraw) drawMem(now);
    else if (ganttDue) drawGantt(now);
    else if (memDue) drawMem(now);
    else timed("metrics", () => metrics.update(store));
  }

  function drawText() {
    const horizon = store.horizon;
    controls.update({ state: store.state, speed: store.speed, t: store.t, horizon, message: store.message || startError, runId: store.runId });
    if (store.runId && exportsFor !== store.runId) {
      exportsFor = store.runId;
      const u = (fmt: string, extra = "") => `/api/runs/${encodeURIComponent(store.runId!)}/export?format=${fmt}${extra}`;
      $(el, "#exports").innerHTML = `export this run: <a href="${u("perfetto")}" download="${store.runId}.perfetto.json">Perfetto trace</a> · <a href="${u("json")}" download="${store.runId}.json">JSON</a> · <a href="${u("csv", "&table=requests")}" download="${store.runId}-requests.csv">requests CSV</a> · <a href="${u("csv", "&table=memory")}" download="${store.runId}-memory.csv">memory CSV</a> · <a href="${u("prometheus")}" download="${store.runId}.prom">Prometheus</a>`;
    }
    const f = store.facts;
    setText($(el, "#mem-facts"), f ? `${f.modelName} · ${f.gpuName}${f.tensorParallelSize > 1 ? ` · TP ${f.tensorParallelSize} (per rank)` : ""}${f.trace ? ` · ${f.trace.name}` : ""}` : "");
    setText($(el, "#mem-note"), store.droppedSamples || store.compactedSamples
      ? `${int(store.snapshots.length)} snapshots kept (${int(store.droppedSamples)} merged by the server${store.compactedSamples ? `, ${int(store.compactedSamples)} old ones thinned here` : ""}) · drag to select · hover for exact bytes`
      : "drag to select a time range · hover for exact bytes");
    // Counts from the engine's own snapshot (exact); the cells are the client's event-built copy of the pool.
    const snap = store.snapshots[store.snapshots.length - 1];
    if (aggregateBlocks && snap) store.blocks.loadCounts(snap.numUsedBlocks, snap.numCachedFreeBlocks, snap.numFreeBlocks);
    const lay = blocks.layout();
    if (aggregateBlocks) setText($(el, "#blk-hl"), `counts only: per-block detail is off above ${int(MAX_DETAIL_BLOCKS)} blocks`);
    // Sliding-window and hybrid models: every KV-cache group's block tables draw on this one pool (vLLM's coordinator).
    const groups = store.budget?.kvCacheGroups ?? 1;
    setText($(el, "#blk-count"), `${snap ? `${int(snap.numUsedBlocks)} used · ${int(snap.numCachedFreeBlocks)} cached · ${int(snap.numFreeBlocks)} free of ` : ""}${int(store.blocks.n)} blocks${groups > 1 ? `, shared by ${groups} KV-cache groups` : ""}${lay.per > 1 ? ` (1 px = ${lay.per} blocks)` : lay.shown < store.blocks.n ? ` (showing ${int(lay.shown)} of ${int(store.blocks.n)})` : ""}`);
  }

  function drawMem(now: number) {
    memVersion = store.version;
    lastMemDraw = now;
    const markers = store.markers.map((m) => {
      let v = markerCache.get(m);
      if (!v) {
        v = {
          x: m.t,
          color: m.kind === "eviction" ? markerColors.eviction : markerColors.preemption,
          label: `${m.kind === "eviction" ? `${m.count} blocks evicted` : `${m.count} requests preempted`} at t = ${m.t.toFixed(2)} s`,
          shape: m.kind === "preemption" ? "triangle" : "tick",
        };
        markerCache.set(m, v);
      }
      return v;
    });
    mem.budget(store.budget).markers(markers).data(store.snapshots).xDomain(store.snapshots.length ? [0, Math.max(1, store.t)] : [0, 1]);
    // The SVG timeline is the costliest redraw (path strings): at most 4 per second while streaming.
    timed("memoryTimeline", () => mem($(el, "#mem-chart")));
  }

  function drawGantt(now: number) {
    ganttVersion = store.version;
    lastGanttDraw = now;
    const win: [number, number] = selection ?? [Math.max(0, store.t - GANTT_WINDOW_S), Math.max(store.t, 1)];
    gantt.xDomain(win).now(store.t);
    timed("gantt", () => gantt($(el, "#gantt-chart")));
    const shown = gantt.shown();
    setText($(el, "#gantt-note"), `${selection ? "selected range" : `last ${GANTT_WINDOW_S} s`} · showing ${int(shown.rows)} of ${int(shown.inWindow)} requests`);
    const inWin = store.snapshots.slice(lowerBound(store.snapshots, win[0]), lowerBound(store.snapshots, win[1]) + 1);
    const ds = downsampleMax(inWin, (s) => s.t, (s) => s.numRunning + s.numWaiting, 400);
    counts.xDomain(win).series([
      { key: "running", label: "running", color: okabeIto.blue, values: ds.map((s) => ({ x: s.t, y: s.numRunning })) },
      { key: "waiting", label: "waiting", color: okabeIto.orange, values: ds.map((s) => ({ x: s.t, y: s.numWaiting })) },
    ]);
    timed("counts", () => counts($(el, "#counts-chart")));
  }

  /** Event log lines; a line with a time (and request) selects that moment in the linked views when clicked. */
  const log: { text: string; t: number; reqId?: number }[] = [];
  function onMessage(m: StreamMessage) {
    messagesSinceFrame++;
    timed("apply", () => store.apply(m));
    if (m.type === "hello") {
      // Per-block events of a huge pool would cost more than they show: aggregates instead (issue 6's subscribe).
      aggregateBlocks = (m.budget?.numGpuBlocks ?? 0) > MAX_DETAIL_BLOCKS;
      if (aggregateBlocks) send({ type: "subscribe", detail: ["requests", "steps", "memory"] });
      if (m.state === "created") send({ type: "play" });
    } else if (m.type === "frame") {
      for (const e of m.events) {
        if (e.type === "preempted") log.push({ t: e.t, reqId: e.reqId, text: `t=${e.t.toFixed(3)}s  req-${e.reqId} preempted, ${e.lostTokens} tokens to recompute` });
        else if (e.type === "rejected") log.push({ t: e.t, reqId: e.reqId, text: `t=${e.t.toFixed(3)}s  req-${e.reqId} rejected: ${e.reason}` });
      }
      // Evictions are steady-state once the cache is full (LRU reuse of cached-free blocks): one line per frame.
      const ev = store.frameEvictions;
      if (ev) {
        log.push({ t: ev.firstT, text: `t=${ev.firstT.toFixed(3)}…${ev.lastT.toFixed(3)}s  evicted ${ev.blocks} cached blocks in ${ev.steps} steps (${ev.firstIds.map((b) => `blk${b}`).join(", ")}${ev.blocks > ev.firstIds.length ? ", …" : ""})` });
      }
      if (log.length > 400) log.splice(0, log.length - 200);
      logVersion++;
    } else if (m.type === "error") {
      startError = m.field ? `${m.field}: ${m.message}` : m.message;
    }
  }

  let logDrawn = 0;
  let logVersion = 0;
  let lastLogDraw = -Infinity;
  function drawLog() {
    if (logVersion === logDrawn) return;
    // Rebuilding 60 buttons is a layout of the whole log: four times a second is as fast as anyone reads it.
    const now = performance.now();
    if (store.state === "running" && now - lastLogDraw < 250) return;
    lastLogDraw = now;
    logDrawn = logVersion;
    $(el, "#event-log").innerHTML = log
      .slice(-60)
      .reverse()
      .map((l) => `<button type="button" class="logline" data-t="${l.t}"${l.reqId !== undefined ? ` data-req="${l.reqId}"` : ""}>${esc(l.text)}</button>`)
      .join("");
  }
  // Linked views: a log line focuses the Gantt on ±10 s around it and, for a request, lights its blocks.
  $(el, "#event-log").addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("button.logline");
    if (!b) return;
    const t = Number(b.dataset.t);
    selection = [Math.max(0, t - 10), t + 10];
    const req = b.dataset.req !== undefined ? Number(b.dataset.req) : null;
    blocks.highlight(req);
    $(el, "#blk-hl").textContent = req === null ? "" : `highlighting req-${req}'s blocks`;
    drawAll(true);
  });

  async function start(v: ServeConfigValue | null) {
    startError = "";
    stream?.close();
    if (ownRunId) void deleteRun(ownRunId);
    selection = null;
    const speedParam = getParam("speed");
    const pendingSpeed: number | "max" = speedParam === "max" ? "max" : speedParam && Number(speedParam) > 0 ? Number(speedParam) : 10;
    const cfg = v ? stripUndefined({ ...(v.input as Record<string, unknown>), trace: v.trace, maxRequests: v.maxRequests }) : {};
    try {
      const res = await postJson<{ id: string }>("/api/runs", { kind: "replay", config: cfg, speed: pendingSpeed });
      if (destroyed) return;
      ownRunId = res.id;
      stream = new RunStream(res.id, {
        onMessage,
        detail: ["requests", "steps", "memory", "blocks"],
        onStatus: (s, d) => opts.setConn(s === "open" ? `live · ${res.id}` : s === "closed" ? `closed (${d})` : "connecting…", s === "open" ? "live" : s === "closed" ? "bad" : ""),
      });
      stream.open();
    } catch (e) {
      startError = e instanceof ApiError ? `${e.field ? `${e.field}: ` : ""}${e.message}` : String(e);
      opts.setConn("run not started", "bad");
      store.message = startError;
      store.version++;
    }
  }

  let raf = 0;
  const loop = () => {
    drawAll();
    drawLog();
    raf = requestAnimationFrame(loop);
  };
  raf = requestAnimationFrame(loop);
  const onResize = () => drawAll(true);
  window.addEventListener("resize", onResize);
  const stopCancelOnHide = cancelOnPageHide(() => ownRunId);
  // The default run (or the URL's config) starts as soon as the config panel has validated its values.
  queueMicrotask(() => {
    const v = config.value();
    if (v) void start(v);
    else {
      // A link with an impossible config must not silently replay the defaults instead.
      startError = "No run started: the config in this link is invalid (the config panel says why). Fix it and press Run replay.";
      opts.setConn("no run", "bad");
      store.version++;
    }
  });

  (window as unknown as { __vramscope?: unknown }).__vramscope = { store, send, gantt, blocks, timings };

  return {
    el,
    onKey(key) {
      if (key === " ") controls.togglePlay();
      else if (key === "." || key === "ArrowRight") controls.step();
      else if (key === "+" || key === "=") controls.faster(1);
      else if (key === "-") controls.faster(-1);
      else if (key === "Escape") {
        selection = null;
        d3.select($(el, "#mem-chart")).select<SVGGElement>("g.brush").call(d3.brushX().clear);
        drawAll(true);
      } else return false;
      return true;
    },
    refresh: () => drawAll(true),
    destroy() {
      destroyed = true;
      cancelAnimationFrame(raf);
      window.removeEventListener("resize", onResize);
      stopCancelOnHide();
      stream?.close();
      if (ownRunId) void deleteRun(ownRunId);
    },
  };
}

/** First index whose snapshot time is ≥ t (snapshots are sorted, STORE-1). */
function lowerBound(s: readonly { t: number }[], t: number): number {
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(typeof v === "number" && Number.isNaN(v))));
}

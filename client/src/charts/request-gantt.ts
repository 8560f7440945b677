/**
 * requestGantt — one row per request, time on x: waiting (outline), prefill (chunks as scheduled), decode,
 * preempted and recomputing spans, a TTFT tick and a finish tick. Canvas for the bars (thousands of requests),
 * an SVG axis under it.
 *
 * Requests overlapping the x window are packed into lanes like a trace viewer's tracks: in arrival order, each
 * goes to the first lane free since before it arrived, so a lane holds many short requests one after another and
 * the number of lanes is the peak concurrency (running + waiting). When more lanes than fit, the first ones are
 * drawn and `shown()` says how many requests are. Hover answers "why": TTFT, TPOT, preemptions, cached tokens.
 *
 * Example:
 *   const gantt = requestGantt().tracker(store.requests).xDomain([t - 30, t]).now(t);
 *   gantt(document.querySelector("#gantt")!);
 */
import * as d3 from "d3";
import type { RequestTrack, RequestTracker, SegmentKind } from "../data/request-track.ts";
import { ganttColors } from "../ui/palette.ts";
import { cssVar } from "../ui/palette.ts";
import { showTooltip, hideTooltip, tooltipTable } from "./tooltip.ts";
import { seconds, int } from "../ui/format.ts";
import { accessors } from "./accessor.ts";

export interface RequestGantt {
  (container: HTMLElement): void;
  tracker(): RequestTracker | null; tracker(t: RequestTracker): RequestGantt;
  xDomain(): [number, number]; xDomain(d: [number, number]): RequestGantt;
  now(): number; now(t: number): RequestGantt;
  height(): number; height(h: number): RequestGantt;
  /** Fixed width in px; null reads the container's width. */
  width(): number | null; width(w: number | null): RequestGantt;
  rowHeight(): number; rowHeight(h: number): RequestGantt;
  /** Called with the request under the pointer (null when none): links the Gantt to the block map. */
  onHover(): ((reqId: number | null) => void) | null; onHover(f: ((reqId: number | null) => void) | null): RequestGantt;
  /** Requests drawn and requests in the window at the last draw. */
  shown(): { rows: number; inWindow: number };
}

const COLORS: Record<SegmentKind, string> = {
  waiting: ganttColors.waiting,
  prefill: ganttColors.prefill,
  decode: ganttColors.decode,
  preempted: ganttColors.preempted,
  recomputing: ganttColors.recomputing,
};

export function requestGantt(): RequestGantt {
  let tracker: RequestTracker | null = null;
  let xDomain: [number, number] = [0, 1];
  let now = 0;
  let height = 240;
  let fixedWidth: number | null = null;
  let hoverCb: ((reqId: number | null) => void) | null = null;
  let rowHeight = 7;
  let placed: { r: RequestTrack; lane: number; end: number }[] = [];
  let shownCount = 0;
  let inWindow = 0;
  const axisH = 30;
  const left = 52;
  const right = 16;
  let xScale = d3.scaleLinear();

  const gantt = ((container: HTMLElement) => {
    const width = Math.max(200, fixedWidth ?? (container.clientWidth || 600));
    let canvas = container.querySelector<HTMLCanvasElement>("canvas.gantt");
    let svg = d3.select(container).select<SVGSVGElement>("svg.gantt-axis");
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.className = "gantt";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", "Request Gantt chart: waiting, prefill, decode, preempted and recomputing spans per request");
      container.appendChild(canvas);
      svg = d3.select(container).append("svg").attr("class", "gantt-axis").attr("aria-hidden", "true");
      svg.append("g").attr("class", "axis x-axis");
      svg.append("text").attr("class", "axis-title");
      canvas.addEventListener("pointermove", (ev) => onHover(canvas!, ev));
      canvas.addEventListener("pointerleave", () => {
        hideTooltip();
        hoverCb?.(null);
      });
    }
    const plotH = height - axisH;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(plotH * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(plotH * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${plotH}px`;
    }
    const iw = width - left - right;
    xScale = d3.scaleLinear().domain(xDomain).range([left, left + iw]);
    const all = tracker ? tracker.inWindow(xDomain[0], xDomain[1], now) : [];
    inWindow = all.length;
    const maxRows = Math.max(1, Math.floor(plotH / rowHeight));
    // Lane packing; a 2 px gap keeps neighbours in one lane apart.
    const gap = ((xDomain[1] - xDomain[0]) / Math.max(1, iw)) * 2;
    const laneEnd: number[] = [];
    placed = [];
    for (const r of all) {
      const end = r.finished ?? (r.rejected !== null ? r.arrival : now);
      let lane = laneEnd.findIndex((e) => e + gap < r.arrival);
      if (lane < 0) {
        lane = laneEnd.length;
        laneEnd.push(end);
      } else laneEnd[lane] = end;
      placed.push({ r, lane, end });
    }
    placed = placed.filter((p) => p.lane < maxRows);
    shownCount = placed.length;
    const ctx = canvas.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, plotH);
    ctx.strokeStyle = cssVar("--grid");
    ctx.lineWidth = 1;
    for (const tk of xScale.ticks(Math.max(2, Math.floor(iw / 90)))) {
      const x = Math.round(xScale(tk)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, 0);
      ctx.lineTo(x, plotH);
      ctx.stroke();
    }
    const bh = Math.max(2, rowHeight - 2);
    const clampX = (t: number) => Math.max(left, Math.min(left + iw, xScale(t)));
    const finishColor = cssVar("--text");
    placed.forEach(({ r, lane }) => {
      const y = lane * rowHeight + 1;
      for (const s of r.segments) {
        const t1 = Number.isNaN(s.t1) ? now : s.t1;
        if (t1 < xDomain[0] || s.t0 > xDomain[1]) continue;
        const x0 = clampX(s.t0);
        const w = Math.max(1, clampX(t1) - x0);
        if (s.kind === "waiting") {
          ctx.strokeStyle = COLORS.waiting;
          ctx.strokeRect(x0 + 0.5, y + 0.5, Math.max(0, w - 1), bh - 1);
        } else {
          ctx.fillStyle = COLORS[s.kind];
          ctx.fillRect(x0, y, w, bh);
        }
      }
      // Prefill chunks as brighter ticks on the running span (one per engine step that scheduled prompt tokens).
      ctx.fillStyle = COLORS.prefill;
      for (const [c0, c1] of r.chunks) {
        if (c1 < xDomain[0] || c0 > xDomain[1]) continue;
        ctx.fillRect(clampX(c0), y, Math.max(1, clampX(c1) - clampX(c0)), bh);
      }
      if (r.firstToken !== null && r.firstToken >= xDomain[0] && r.firstToken <= xDomain[1]) {
        ctx.fillStyle = ganttColors.ttft;
        ctx.fillRect(xScale(r.firstToken) - 1, y - 1, 2, bh + 2);
      }
      if (r.finished !== null && r.finished >= xDomain[0] && r.finished <= xDomain[1]) {
        ctx.fillStyle = finishColor;
        ctx.fillRect(xScale(r.finished) - 1, y - 1, 2, bh + 2);
      }
    });
    if (now >= xDomain[0] && now <= xDomain[1]) {
      ctx.strokeStyle = cssVar("--accent");
      ctx.beginPath();
      ctx.moveTo(Math.round(xScale(now)) + 0.5, 0);
      ctx.lineTo(Math.round(xScale(now)) + 0.5, plotH);
      ctx.stroke();
    }
    svg.attr("width", width).attr("height", axisH);
    svg.select<SVGGElement>("g.x-axis").attr("transform", "translate(0,0)").call(d3.axisBottom(xScale).ticks(Math.max(2, Math.floor(iw / 90))));
    svg.select("text.axis-title").attr("x", left + iw / 2).attr("y", axisH - 2).attr("text-anchor", "middle").text("simulated time (s)");
  }) as RequestGantt;

  function onHover(canvas: HTMLCanvasElement, ev: PointerEvent) {
    const r = canvas.getBoundingClientRect();
    const lane = Math.floor((ev.clientY - r.top) / rowHeight);
    const t = xScale.invert(ev.clientX - r.left);
    const tol = (xDomain[1] - xDomain[0]) / 200;
    const hit = placed.find((p) => p.lane === lane && t >= p.r.arrival - tol && t <= p.end + tol);
    if (!hit) {
      hoverCb?.(null);
      return hideTooltip();
    }
    const req = hit.r;
    hoverCb?.(req.id);
    const ttft = req.firstToken !== null ? req.firstToken - req.arrival : null;
    const tpot = req.finished !== null && req.firstToken !== null && req.outputTokens > 1 ? (req.finished - req.firstToken) / (req.outputTokens - 1) : null;
    const rowsT: [string, string, string?][] = [
      ["phase", req.phase === "done" ? "finished" : req.phase, req.phase in COLORS ? COLORS[req.phase as SegmentKind] : undefined],
      ["arrival", `${req.arrival.toFixed(3)} s`],
      ["prompt / output", `${int(req.promptTokens)} / ${int(req.outputTokens)} tokens`],
      ["cached prefix", `${int(req.cachedTokens)} tokens`],
      ["queue time", seconds(req.admitted !== null ? req.admitted - req.arrival : null)],
      ["TTFT", seconds(ttft)],
      ["TPOT", seconds(tpot)],
      ["e2e", seconds(req.finished !== null ? req.finished - req.arrival : null)],
      ["preemptions", `${req.preemptions}${req.lostTokens ? ` (${int(req.lostTokens)} tokens recomputed)` : ""}`],
      ["prefill chunks", String(req.chunks.length)],
    ];
    if (req.rejected) rowsT.push(["rejected", req.rejected]);
    showTooltip(tooltipTable(`req-${req.id}`, rowsT), ev.clientX, ev.clientY);
  }

  const acc = accessors(gantt);
  gantt.tracker = acc(() => tracker, (v) => (tracker = v)) as RequestGantt["tracker"];
  gantt.xDomain = acc(() => xDomain, (v) => (xDomain = v)) as RequestGantt["xDomain"];
  gantt.now = acc(() => now, (v) => (now = v)) as RequestGantt["now"];
  gantt.height = acc(() => height, (v) => (height = v)) as RequestGantt["height"];
  gantt.width = acc(() => fixedWidth, (v) => (fixedWidth = v)) as RequestGantt["width"];
  gantt.rowHeight = acc(() => rowHeight, (v) => (rowHeight = v)) as RequestGantt["rowHeight"];
  gantt.onHover = acc(() => hoverCb, (v) => (hoverCb = v)) as RequestGantt["onHover"];
  gantt.shown = () => ({ rows: shownCount, inWindow });
  return gantt;
}

/**
 * stackedArea — a stacked area chart over a numeric x, as a d3-style factory: defaults declared first, chained
 * getter/setter accessors (d3-shape's stack.js), then `chart(container)` draws or updates in place.
 *
 * Data must be sorted by x (a timeline). Channels: x (number), one y per key (stacked bottom-up in `keys` order), optional horizontal reference lines
 * (e.g. the `gpu_memory_utilization` budget and the device total), vertical markers (eviction/preemption bursts),
 * background bands (training phases) and point annotations (the peak). Values are divided by `yUnit` for the axis
 * (1 GiB by default), and the axis title carries the unit.
 *
 * Drawing downsamples to ~2 samples per pixel keeping peaks (downsample.ts); `hover(x)` receives the x under the
 * mouse and returns tooltip HTML from the full series, so hover numbers are exact.
 *
 * Example:
 *   const chart = stackedArea<MemorySnapshot>().keys(["weightsBytes", "kvUsedBytes"]).x((d) => d.t)
 *     .refLines([{ y: budget.requestedBytes, label: "budget 0.90", color: "#E69F00" }]);
 *   chart.data(snapshots)(document.querySelector("#timeline")!);
 */
import * as d3 from "d3";
import { downsampleMax } from "./downsample.ts";
import { plotSvg, drawAxes, drawHoverRule, GRID, AXES, HOVER_RULE, HOVER_TARGET } from "./axes.ts";
import { accessors } from "./accessor.ts";

export interface RefLine { y: number; label: string; color: string; dash?: string }
export interface Marker { x: number; color: string; label: string; shape?: "tick" | "triangle" }
export interface Band { x0: number; x1: number; label: string; color: string }
export interface Annotation { x: number; y: number; label: string; color?: string }

export interface StackedArea<T> {
  (container: HTMLElement): void;
  data(): readonly T[]; data(d: readonly T[]): StackedArea<T>;
  keys(): readonly string[]; keys(k: readonly string[]): StackedArea<T>;
  x(): (d: T) => number; x(f: (d: T) => number): StackedArea<T>;
  value(): (d: T, key: string) => number; value(f: (d: T, key: string) => number): StackedArea<T>;
  colors(): Record<string, string>; colors(c: Record<string, string>): StackedArea<T>;
  labels(): Record<string, string>; labels(l: Record<string, string>): StackedArea<T>;
  refLines(): RefLine[]; refLines(r: RefLine[]): StackedArea<T>;
  markers(): Marker[]; markers(m: Marker[]): StackedArea<T>;
  bands(): Band[]; bands(b: Band[]): StackedArea<T>;
  annotations(): Annotation[]; annotations(a: Annotation[]): StackedArea<T>;
  xDomain(): [number, number] | null; xDomain(d: [number, number] | null): StackedArea<T>;
  yMax(): number | null; yMax(v: number | null): StackedArea<T>;
  yUnit(): number; yUnit(v: number): StackedArea<T>;
  xLabel(): string; xLabel(s: string): StackedArea<T>;
  yLabel(): string; yLabel(s: string): StackedArea<T>;
  height(): number; height(h: number): StackedArea<T>;
  /** Fixed width in px; null (default) reads the container's width (a layout read: pass it when redrawing often). */
  width(): number | null; width(w: number | null): StackedArea<T>;
  /** Accessible name of the chart (the svg's aria-label). */
  title(): string; title(s: string): StackedArea<T>;
  step(): boolean; step(b: boolean): StackedArea<T>;
  hover(): ((x: number) => string | null) | null; hover(f: ((x: number) => string | null) | null): StackedArea<T>;
  brush(): ((sel: [number, number] | null) => void) | null;
  brush(f: ((sel: [number, number] | null) => void) | null): StackedArea<T>;
}

export function stackedArea<T>(): StackedArea<T> {
  let data: readonly T[] = [];
  let keys: readonly string[] = [];
  let xOf: (d: T) => number = (d) => (d as unknown as { t: number }).t;
  let value: (d: T, key: string) => number = (d, k) => Number((d as Record<string, unknown>)[k] ?? 0);
  let colors: Record<string, string> = {};
  let labels: Record<string, string> = {};
  let refLines: RefLine[] = [];
  let markers: Marker[] = [];
  let bands: Band[] = [];
  let annotations: Annotation[] = [];
  let xDomain: [number, number] | null = null;
  let yMax: number | null = null;
  let yUnit = 1024 ** 3;
  let xLabel = "simulated time (s)";
  let yLabel = "memory (GiB)";
  let height = 260;
  let fixedWidth: number | null = null;
  let currentX = d3.scaleLinear();
  let brushKey = "";
  let title = "stacked area chart";
  let step = false;
  let hover: ((x: number) => string | null) | null = null;
  let brush: ((sel: [number, number] | null) => void) | null = null;
  const margin = { top: 12, right: 118, bottom: 34, left: 52 };

  let bisectX = d3.bisector<T, number>((d) => xOf(d));

  const chart = ((container: HTMLElement) => {
    const width = Math.max(200, fixedWidth ?? (container.clientWidth || 600));
    // Reference-line labels sit in the right margin; narrow charts (pipeline stages side by side) get a narrower one.
    margin.right = width < 640 ? 84 : 118;
    const iw = width - margin.left - margin.right;
    const ih = height - margin.top - margin.bottom;
    const svg = plotSvg(container, "stacked", ["g.bands", GRID, "g.layers", "g.refs", "g.markers", "g.annotations", ...AXES, HOVER_RULE, "g.brush", HOVER_TARGET]);
    svg.attr("width", width).attr("height", height).attr("aria-label", title);
    const g = svg.select<SVGGElement>("g.plot").attr("transform", `translate(${margin.left},${margin.top})`);

    const xs = data.map(xOf);
    const dom: [number, number] = xDomain ?? (xs.length ? [xs[0], Math.max(xs[xs.length - 1], xs[0] + 1e-9)] : [0, 1]);
    const x = d3.scaleLinear().domain(dom).range([0, iw]);
    currentX = x;
    // Timelines are sorted by x: the visible slice is two binary searches, not a pass over every sample.
    const visible = xDomain ? data.slice(bisectX.left(data, dom[0]), bisectX.right(data, dom[1])) : data;
    const total = (d: T) => keys.reduce((s, k) => s + value(d, k), 0);
    // One sample per 2 px: the step curve doubles the vertices, and path strings are most of the redraw cost.
    const drawn = downsampleMax(visible, xOf, total, Math.max(2, Math.floor(iw / 2)));
    const stack = d3.stack<T>().keys(keys as string[]).value((d, k) => value(d, k) / yUnit);
    const series = stack(drawn as T[]);
    const top = Math.max(
      yMax !== null ? yMax / yUnit : 0,
      d3.max(series.length ? series[series.length - 1] : [], (p) => p[1]) ?? 0,
      d3.max(refLines, (r) => r.y / yUnit) ?? 0,
      // An empty chart (no run yet) gets a one-unit axis rather than ticks at 1e-9 GiB.
      data.length || refLines.length || yMax !== null ? 1e-9 : 1,
    );
    const y = d3.scaleLinear().domain([0, top * 1.04]).nice().range([ih, 0]);

    // Phases: a faint full-height wash plus a solid strip along the top, so short phases stay legible.
    g.select<SVGGElement>("g.bands")
      .selectAll("rect.wash")
      .data(bands)
      .join("rect")
      .attr("class", "wash")
      .attr("x", (b) => x(b.x0))
      .attr("width", (b) => Math.max(0, x(b.x1) - x(b.x0)))
      .attr("y", 0)
      .attr("height", ih)
      .attr("fill", (b) => b.color)
      .attr("fill-opacity", 0.06);
    g.select<SVGGElement>("g.bands")
      .selectAll("rect.strip")
      .data(bands)
      .join("rect")
      .attr("class", "strip")
      .attr("x", (b) => x(b.x0))
      .attr("width", (b) => Math.max(0, x(b.x1) - x(b.x0)))
      .attr("y", -6)
      .attr("height", 5)
      .attr("fill", (b) => b.color)
      .selectAll("title")
      .data((b) => [b])
      .join("title")
      .text((b) => b.label);
    g.select<SVGGElement>("g.bands")
      .selectAll("text")
      .data(bands.filter((b) => x(b.x1) - x(b.x0) > 46))
      .join("text")
      .attr("x", (b) => x(b.x0) + 3)
      .attr("y", 10)
      .attr("class", "axis-title")
      .text((b) => b.label);

    const area = d3
      .area<d3.SeriesPoint<T>>()
      .x((p) => x(xOf(p.data)))
      .y0((p) => y(p[0]))
      .y1((p) => y(p[1]))
      .curve(step ? d3.curveStepAfter : d3.curveLinear)
      .digits(1);
    g.select<SVGGElement>("g.layers")
      .selectAll<SVGPathElement, d3.Series<T, string>>("path")
      .data(series, (s) => s.key)
      .join("path")
      .attr("class", (s) => `layer layer-${s.key}`)
      .attr("fill", (s) => colors[s.key] ?? "#888")
      .attr("fill-opacity", 0.85)
      .attr("d", area);

    const refs = g.select<SVGGElement>("g.refs").selectAll<SVGGElement, RefLine>("g.ref").data(refLines, (r) => r.label);
    const refEnter = refs.enter().append("g").attr("class", "ref");
    refEnter.append("line").attr("class", "refline");
    refEnter.append("text").attr("class", "reflabel");
    refs.exit().remove();
    const refAll = refEnter.merge(refs);
    refAll.select("line")
      .attr("x1", 0).attr("x2", iw)
      .attr("y1", (r) => y(r.y / yUnit)).attr("y2", (r) => y(r.y / yUnit))
      .attr("stroke", (r) => r.color).attr("stroke-dasharray", (r) => r.dash ?? null);
    // Labels sit in the right margin; nudge apart when two lines are close (budget vs total).
    const labelYs = refLines.map((r) => y(r.y / yUnit));
    for (let i = 1; i < labelYs.length; i++)
      for (let j = 0; j < i; j++) if (Math.abs(labelYs[i] - labelYs[j]) < 12) labelYs[i] = labelYs[j] + (labelYs[i] >= labelYs[j] ? 12 : -12);
    refAll.select("text")
      .attr("x", iw + 4).attr("y", (_r, i) => labelYs[i] + 4)
      .attr("fill", (r) => r.color).text((r) => r.label);

    // One mark per pixel column and kind (a burst of 300 evictions is one tick whose title sums them).
    const cols = new Map<string, Marker & { n: number; px: number }>();
    for (const m of markers) {
      if (m.x < dom[0] || m.x > dom[1]) continue;
      const px = Math.round(x(m.x) / 2) * 2;
      const k = `${m.shape ?? "tick"}:${px}`;
      const c = cols.get(k);
      if (c) c.n++;
      else cols.set(k, { ...m, n: 1, px });
    }
    g.select<SVGGElement>("g.markers")
      .selectAll<SVGPathElement, Marker & { n: number; px: number }>("path")
      .data([...cols.values()])
      .join("path")
      .attr("d", (m) => (m.shape === "triangle" ? `M${m.px},${ih - 7}l-4,7h8z` : `M${m.px},${ih}v-6`))
      .attr("opacity", (m) => (m.shape === "triangle" ? 1 : 0.75))
      .attr("fill", (m) => m.color)
      .attr("stroke", (m) => m.color)
      .attr("stroke-width", 1.5)
      .selectAll("title")
      .data((m) => [m])
      .join("title")
      .text((m) => (m.n > 1 ? `${m.label} (+${m.n - 1} more bursts in this pixel)` : m.label));

    const ann = g.select<SVGGElement>("g.annotations").selectAll<SVGGElement, Annotation>("g.ann").data(annotations);
    const annEnter = ann.enter().append("g").attr("class", "ann");
    annEnter.append("circle").attr("r", 3.5);
    annEnter.append("text").attr("class", "reflabel");
    ann.exit().remove();
    const annAll = annEnter.merge(ann);
    annAll.attr("transform", (a) => `translate(${x(a.x)},${y(a.y / yUnit)})`);
    annAll.select("circle").attr("fill", (a) => a.color ?? "currentColor").attr("stroke", "var(--bg)");
    annAll.select("text")
      .attr("x", (a) => (x(a.x) > iw * 0.7 ? -6 : 6)).attr("y", -6)
      .attr("text-anchor", (a) => (x(a.x) > iw * 0.7 ? "end" : "start"))
      .attr("fill", (a) => a.color ?? "var(--text)")
      .text((a) => a.label);

    drawAxes(g, x, y, { iw, ih, xTickSpacing: 90, yTicks: 5, xLabel, yLabel, xTitleY: ih + 30 });
    const target = drawHoverRule(g, x, iw, ih, () => hover);

    const brushG = g.select<SVGGElement>("g.brush");
    // (Re)installing a brush rebuilds its overlay and listeners: only when the plot size changes.
    const bk = `${iw}x${ih}`;
    if (brush && bk !== brushKey) {
      brushKey = bk;
      const cb = brush;
      const b = d3.brushX().extent([[0, 0], [iw, ih]]).on("end", (ev: d3.D3BrushEvent<unknown>) => {
        if (!ev.sourceEvent) return;
        const sel = ev.selection as [number, number] | null;
        cb(sel ? [currentX.invert(sel[0]), currentX.invert(sel[1])] : null);
      });
      brushG.call(b);
      // The brush overlay captures the pointer: forward hover through it.
      brushG.select<SVGRectElement>("rect.overlay")
        .on("pointermove.hover", (ev: PointerEvent) => target.on("pointermove")?.call(target.node()!, ev, undefined))
        .on("pointerleave.hover", (ev: PointerEvent) => target.on("pointerleave")?.call(target.node()!, ev, undefined));
    }
  }) as StackedArea<T>;

  const acc = accessors(chart);
  chart.data = acc(() => data, (v) => (data = v)) as StackedArea<T>["data"];
  chart.keys = acc(() => keys, (v) => (keys = v)) as StackedArea<T>["keys"];
  chart.x = acc(() => xOf, (v) => {
    xOf = v;
    bisectX = d3.bisector<T, number>((d) => xOf(d));
  }) as StackedArea<T>["x"];
  chart.value = acc(() => value, (v) => (value = v)) as StackedArea<T>["value"];
  chart.colors = acc(() => colors, (v) => (colors = v)) as StackedArea<T>["colors"];
  chart.labels = acc(() => labels, (v) => (labels = v)) as StackedArea<T>["labels"];
  chart.refLines = acc(() => refLines, (v) => (refLines = v)) as StackedArea<T>["refLines"];
  chart.markers = acc(() => markers, (v) => (markers = v)) as StackedArea<T>["markers"];
  chart.bands = acc(() => bands, (v) => (bands = v)) as StackedArea<T>["bands"];
  chart.annotations = acc(() => annotations, (v) => (annotations = v)) as StackedArea<T>["annotations"];
  chart.xDomain = acc(() => xDomain, (v) => (xDomain = v)) as StackedArea<T>["xDomain"];
  chart.yMax = acc(() => yMax, (v) => (yMax = v)) as StackedArea<T>["yMax"];
  chart.yUnit = acc(() => yUnit, (v) => (yUnit = v)) as StackedArea<T>["yUnit"];
  chart.xLabel = acc(() => xLabel, (v) => (xLabel = v)) as StackedArea<T>["xLabel"];
  chart.yLabel = acc(() => yLabel, (v) => (yLabel = v)) as StackedArea<T>["yLabel"];
  chart.height = acc(() => height, (v) => (height = v)) as StackedArea<T>["height"];
  chart.width = acc(() => fixedWidth, (v) => (fixedWidth = v)) as StackedArea<T>["width"];
  chart.title = acc(() => title, (v) => (title = v)) as StackedArea<T>["title"];
  chart.step = acc(() => step, (v) => (step = v)) as StackedArea<T>["step"];
  chart.hover = acc(() => hover, (v) => (hover = v)) as StackedArea<T>["hover"];
  chart.brush = acc(() => brush, (v) => (brush = v)) as StackedArea<T>["brush"];
  return chart;
}

/** A legend row of colour swatches, as HTML. */
export function legendHtml(items: { label: string; color: string; outline?: boolean }[]): string {
  return items
    .map((i) => `<span><span class="swatch" style="background:${i.outline ? "transparent" : i.color};${i.outline ? `outline:1px solid ${i.color};` : ""}"></span>${i.label}</span>`)
    .join("");
}

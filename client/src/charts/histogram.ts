/**
 * histogram — a small bar histogram (TTFT/TPOT/e2e distributions in the metrics panel), d3.bin over the values,
 * log-free linear x in the value's unit. Meant to be ~60 px tall: axis ticks at the extremes only.
 *
 * Example: histogram().values(ttfts).color("#009E73").label("TTFT (s)")(el);
 */
import * as d3 from "d3";
import { accessors } from "./accessor.ts";

export interface Histogram {
  (container: HTMLElement): void;
  values(): readonly number[]; values(v: readonly number[]): Histogram;
  color(): string; color(c: string): Histogram;
  label(): string; label(s: string): Histogram;
  height(): number; height(h: number): Histogram;
  bins(): number; bins(n: number): Histogram;
  marks(): { x: number; label: string }[]; marks(m: { x: number; label: string }[]): Histogram;
  /** Suffix of the axis's extreme labels, e.g. " s". */
  unit(): string; unit(u: string): Histogram;
}

export function histogram(): Histogram {
  let values: readonly number[] = [];
  let color = "#0072B2";
  let label = "value";
  let height = 66;
  let bins = 24;
  let marks: { x: number; label: string }[] = [];
  let unit = "";
  const chart = ((container: HTMLElement) => {
    const width = Math.max(100, container.clientWidth || 140);
    let svg = d3.select(container).select<SVGSVGElement>("svg.hist");
    if (svg.empty()) {
      svg = d3.select(container).append("svg").attr("class", "hist").attr("role", "img");
      svg.append("g").attr("class", "bars");
      svg.append("g").attr("class", "marks");
      svg.append("g").attr("class", "axis x-axis");
    }
    svg.attr("width", width).attr("height", height).attr("aria-label", `${label} histogram of ${values.length} values`);
    const axisH = 18;
    const ih = height - axisH;
    const ext = d3.extent(values) as [number | undefined, number | undefined];
    const lo = Math.min(0, ext[0] ?? 0);
    const hi = Math.max(ext[1] ?? 1, lo + 1e-9);
    const x = d3.scaleLinear().domain([lo, hi]).range([2, width - 2]);
    const b = d3.bin().domain([lo, hi]).thresholds(x.ticks(bins))(values as number[]);
    const y = d3.scaleLinear().domain([0, Math.max(1, d3.max(b, (d) => d.length) ?? 0)]).range([ih, 2]);
    svg.select<SVGGElement>("g.bars")
      .selectAll("rect")
      .data(values.length ? b : [])
      .join("rect")
      .attr("x", (d) => x(d.x0!) + 0.5)
      .attr("width", (d) => Math.max(0.5, x(d.x1!) - x(d.x0!) - 1))
      .attr("y", (d) => y(d.length))
      .attr("height", (d) => ih - y(d.length))
      .attr("fill", color);
    svg.select<SVGGElement>("g.marks")
      .selectAll("line")
      .data(marks.filter((m) => Number.isFinite(m.x)))
      .join("line")
      .attr("x1", (m) => x(m.x)).attr("x2", (m) => x(m.x))
      .attr("y1", 0).attr("y2", ih)
      .attr("stroke", "currentColor").attr("stroke-dasharray", "2,2")
      .selectAll("title").data((m) => [m]).join("title").text((m) => m.label);
    svg.select<SVGGElement>("g.x-axis").attr("transform", `translate(0,${ih})`)
      .call(d3.axisBottom(x).tickValues([lo, hi]).tickFormat((v) => `${d3.format(".3~r")(Number(v))}${unit}`).tickSizeOuter(0));
    svg.select<SVGGElement>("g.x-axis").selectAll<SVGTextElement, unknown>("text").attr("text-anchor", (_d, i) => (i === 0 ? "start" : "end"));
  }) as Histogram;
  const acc = accessors(chart);
  chart.values = acc(() => values, (v) => (values = v)) as Histogram["values"];
  chart.color = acc(() => color, (v) => (color = v)) as Histogram["color"];
  chart.label = acc(() => label, (v) => (label = v)) as Histogram["label"];
  chart.height = acc(() => height, (v) => (height = v)) as Histogram["height"];
  chart.bins = acc(() => bins, (v) => (bins = v)) as Histogram["bins"];
  chart.unit = acc(() => unit, (v) => (unit = v)) as Histogram["unit"];
  chart.marks = acc(() => marks, (v) => (marks = v)) as Histogram["marks"];
  return chart;
}

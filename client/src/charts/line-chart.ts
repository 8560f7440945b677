/**
 * lineChart — several named series over a numeric x (running/waiting counts, sweep curves). Same factory shape
 * as stackedArea; `points` marks individual x,y positions (the sweep's recommended point).
 *
 * Example:
 *   lineChart().series([{ key: "running", label: "running", color: "#0072B2", values: [{ x: 0, y: 3 }] }])
 *     .xLabel("simulated time (s)").yLabel("requests")(el);
 */
import * as d3 from "d3";
import { plotSvg, drawAxes, drawHoverRule, GRID, AXES, HOVER_RULE, HOVER_TARGET } from "./axes.ts";
import { accessors } from "./accessor.ts";

export interface LineSeries { key: string; label: string; color: string; values: { x: number; y: number }[]; dash?: string }
export interface PointMark { x: number; y: number; label: string; color: string }

export interface LineChart {
  (container: HTMLElement): void;
  series(): LineSeries[]; series(s: LineSeries[]): LineChart;
  points(): PointMark[]; points(p: PointMark[]): LineChart;
  xDomain(): [number, number] | null; xDomain(d: [number, number] | null): LineChart;
  xLabel(): string; xLabel(s: string): LineChart;
  yLabel(): string; yLabel(s: string): LineChart;
  height(): number; height(h: number): LineChart;
  /** Fixed width in px; null reads the container's width. */
  width(): number | null; width(w: number | null): LineChart;
  title(): string; title(s: string): LineChart;
  step(): boolean; step(b: boolean): LineChart;
  yFormat(): (v: number) => string; yFormat(f: (v: number) => string): LineChart;
  hover(): ((x: number) => string | null) | null; hover(f: ((x: number) => string | null) | null): LineChart;
  showLegend(): boolean; showLegend(b: boolean): LineChart;
  /** Draw a dot at every data point (discrete sweeps), not just the line. */
  dots(): boolean; dots(b: boolean): LineChart;
  /** Counts: integer ticks only. */
  integerY(): boolean; integerY(b: boolean): LineChart;
}

export function lineChart(): LineChart {
  let series: LineSeries[] = [];
  let points: PointMark[] = [];
  let xDomain: [number, number] | null = null;
  let xLabel = "x";
  let yLabel = "y";
  let height = 140;
  let fixedWidth: number | null = null;
  let title = "line chart";
  let step = false;
  let yFormat: (v: number) => string = d3.format("~s");
  let hover: ((x: number) => string | null) | null = null;
  let showLegend = true;
  let integerY = false;
  let dots = false;
  const margin = { top: 8, right: 16, bottom: 32, left: 52 };

  const chart = ((container: HTMLElement) => {
    const width = Math.max(160, fixedWidth ?? (container.clientWidth || 400));
    const iw = width - margin.left - margin.right;
    const legendH = showLegend && series.length > 1 ? 16 : 0;
    const ih = height - margin.top - margin.bottom - legendH;
    const svg = plotSvg(container, "lines", [GRID, "g.series", "g.dots", "g.points", ...AXES, "g.legend", HOVER_RULE, HOVER_TARGET]);
    svg.attr("width", width).attr("height", height).attr("aria-label", title);
    const g = svg.select<SVGGElement>("g.plot").attr("transform", `translate(${margin.left},${margin.top + legendH})`);
    const allX = series.flatMap((s) => s.values.map((v) => v.x)).concat(points.map((p) => p.x));
    const allY = series.flatMap((s) => s.values.map((v) => v.y)).concat(points.map((p) => p.y));
    const xd = xDomain ?? (allX.length ? (d3.extent(allX) as [number, number]) : [0, 1]);
    if (xd[0] === xd[1]) xd[1] = xd[0] + 1;
    const x = d3.scaleLinear().domain(xd).range([0, iw]);
    const yTop = Math.max(integerY ? 1 : 1e-9, d3.max(allY) ?? 1);
    const y = d3.scaleLinear().domain([Math.min(0, d3.min(allY) ?? 0), yTop]).nice().range([ih, 0]);
    const yTicks = integerY ? Math.min(4, Math.ceil(yTop)) : 4;
    const line = d3.line<{ x: number; y: number }>().x((v) => x(v.x)).y((v) => y(v.y)).curve(step ? d3.curveStepAfter : d3.curveMonotoneX);
    g.select<SVGGElement>("g.series")
      .selectAll<SVGPathElement, LineSeries>("path")
      .data(series, (s) => s.key)
      .join("path")
      .attr("fill", "none")
      .attr("stroke", (s) => s.color)
      .attr("stroke-width", 1.6)
      .attr("stroke-dasharray", (s) => s.dash ?? null)
      .attr("d", (s) => line(s.values.filter((v) => v.x >= xd[0] && v.x <= xd[1])));
    g.select<SVGGElement>("g.dots")
      .selectAll<SVGCircleElement, { x: number; y: number; color: string }>("circle")
      .data(dots ? series.flatMap((s) => s.values.filter((v) => v.x >= xd[0] && v.x <= xd[1]).map((v) => ({ ...v, color: s.color }))) : [])
      .join("circle")
      .attr("r", 2.5)
      .attr("cx", (v) => x(v.x))
      .attr("cy", (v) => y(v.y))
      .attr("fill", (v) => v.color);
    g.select<SVGGElement>("g.points")
      .selectAll<SVGGElement, PointMark>("g.pt")
      .data(points)
      .join((enter) => {
        const e = enter.append("g").attr("class", "pt");
        e.append("circle").attr("r", 5).attr("fill", "none").attr("stroke-width", 2);
        e.append("text").attr("class", "reflabel").attr("x", 8).attr("y", -8);
        return e;
      })
      .attr("transform", (p) => `translate(${x(p.x)},${y(p.y)})`)
      .call((sel) => sel.select("circle").attr("stroke", (p) => p.color))
      .call((sel) => sel.select("text").attr("fill", (p) => p.color).text((p) => p.label));
    drawAxes(g, x, y, { iw, ih, xTickSpacing: 80, yTicks, yFormat, xLabel, yLabel, xTitleY: ih + 28 });
    const leg = g.select<SVGGElement>("g.legend").attr("transform", `translate(0,${-legendH + 2})`);
    leg.selectAll<SVGGElement, LineSeries>("g.li")
      .data(legendH ? series : [], (s) => s.key)
      .join((enter) => {
        const e = enter.append("g").attr("class", "li");
        e.append("rect").attr("width", 10).attr("height", 3).attr("y", 3);
        e.append("text").attr("class", "axis-title").attr("x", 14).attr("y", 8);
        return e;
      })
      .attr("transform", (_s, i) => `translate(${8 + i * Math.min(170, iw / Math.max(1, series.length))},0)`)
      .call((sel) => sel.select("rect").attr("fill", (s) => s.color))
      .call((sel) => sel.select("text").text((s) => s.label));
    drawHoverRule(g, x, iw, ih, () => hover);
  }) as LineChart;

  const acc = accessors(chart);
  chart.series = acc(() => series, (v) => (series = v)) as LineChart["series"];
  chart.points = acc(() => points, (v) => (points = v)) as LineChart["points"];
  chart.xDomain = acc(() => xDomain, (v) => (xDomain = v)) as LineChart["xDomain"];
  chart.xLabel = acc(() => xLabel, (v) => (xLabel = v)) as LineChart["xLabel"];
  chart.yLabel = acc(() => yLabel, (v) => (yLabel = v)) as LineChart["yLabel"];
  chart.height = acc(() => height, (v) => (height = v)) as LineChart["height"];
  chart.width = acc(() => fixedWidth, (v) => (fixedWidth = v)) as LineChart["width"];
  chart.title = acc(() => title, (v) => (title = v)) as LineChart["title"];
  chart.step = acc(() => step, (v) => (step = v)) as LineChart["step"];
  chart.yFormat = acc(() => yFormat, (v) => (yFormat = v)) as LineChart["yFormat"];
  chart.hover = acc(() => hover, (v) => (hover = v)) as LineChart["hover"];
  chart.showLegend = acc(() => showLegend, (v) => (showLegend = v)) as LineChart["showLegend"];
  chart.dots = acc(() => dots, (v) => (dots = v)) as LineChart["dots"];
  chart.integerY = acc(() => integerY, (v) => (integerY = v)) as LineChart["integerY"];
  return chart;
}

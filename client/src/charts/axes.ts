/**
 * The x/y frame that lineChart and stackedArea share: the svg skeleton, the y grid, both axes with their titles, and
 * the vertical hover rule that follows the pointer. One module so the two charts keep the same look (tick density,
 * title placement) and the same hover behaviour (the rule and tooltip track x; `hover` returning null hides them).
 *
 * Invariant: the skeleton is built once per container (`svg.<cls>` found ⇒ reused), so redraws update elements in
 * place and never reorder the layers; the layer list is the drawing order, bottom first.
 *
 * Example:
 *   const svg = plotSvg(container, "lines", [GRID, "g.series", ...AXES, HOVER_RULE, HOVER_TARGET]);
 *   drawAxes(g, x, y, { iw, ih, xTickSpacing: 80, yTicks: 4, xLabel, yLabel, xTitleY: 28 });
 *   drawHoverRule(g, x, iw, ih, () => hover);
 */
import * as d3 from "d3";
import { showTooltip, hideTooltip } from "./tooltip.ts";

/** Layer specs, "tag.class names": the y grid under the marks. */
export const GRID = "g.gridline y-grid";
/** Both axes and their titles. */
export const AXES = ["g.axis x-axis", "g.axis y-axis", "text.axis-title x-title", "text.axis-title y-title"] as const;
/** The vertical rule under the pointer (starts hidden). */
export const HOVER_RULE = "line.hover-rule";
/** The transparent rect over the plot that receives the pointer; keep it last so it is on top. */
export const HOVER_TARGET = "rect.hover-target";

/**
 * The chart's `svg.<cls>` in `container`, created on first use with role img, one `g.plot` and `layers` appended
 * to it in order (each "tag.class names").
 */
export function plotSvg(container: HTMLElement, cls: string, layers: readonly string[]): d3.Selection<SVGSVGElement, unknown, null, undefined> {
  let svg = d3.select(container).select<SVGSVGElement>(`svg.${cls}`);
  if (svg.empty()) {
    svg = d3.select(container).append("svg").attr("class", cls).attr("role", "img");
    const g = svg.append("g").attr("class", "plot");
    for (const layer of layers) {
      const dot = layer.indexOf(".");
      const el = g.append(layer.slice(0, dot)).attr("class", layer.slice(dot + 1));
      if (layer === HOVER_RULE) el.style("display", "none");
      if (layer === HOVER_TARGET) el.attr("fill", "transparent");
    }
  }
  return svg as d3.Selection<SVGSVGElement, unknown, null, undefined>;
}

export interface AxesOptions {
  /** Inner plot width and height in px. */
  iw: number;
  ih: number;
  /** About one x tick per this many px (at least 2 ticks). */
  xTickSpacing: number;
  /** Tick count hint for the y axis and its grid. */
  yTicks: number;
  /** y tick labels; d3's default format when absent. */
  yFormat?: (v: number) => string;
  xLabel: string;
  yLabel: string;
  /** Baseline of the x title below the plot's top, px (just under the tick labels). */
  xTitleY: number;
}

/** The y grid (ticks stretched across the plot), the x axis along the bottom, the y axis and both titles. */
export function drawAxes(g: d3.Selection<SVGGElement, unknown, null, undefined>, x: d3.ScaleLinear<number, number>, y: d3.ScaleLinear<number, number>, o: AxesOptions): void {
  g.select<SVGGElement>("g.y-grid").call(d3.axisLeft(y).ticks(o.yTicks).tickSize(-o.iw).tickFormat(() => ""));
  g.select<SVGGElement>("g.x-axis").attr("transform", `translate(0,${o.ih})`).call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(o.iw / o.xTickSpacing))));
  const yAxis = d3.axisLeft(y).ticks(o.yTicks);
  const yFormat = o.yFormat;
  if (yFormat) yAxis.tickFormat((v) => yFormat(Number(v)));
  g.select<SVGGElement>("g.y-axis").call(yAxis);
  g.select("text.x-title").attr("x", o.iw / 2).attr("y", o.xTitleY).attr("text-anchor", "middle").text(o.xLabel);
  g.select("text.y-title").attr("transform", `translate(${-40},${o.ih / 2}) rotate(-90)`).attr("text-anchor", "middle").text(o.yLabel);
}

/**
 * Sizes the hover target to the plot and wires it: on pointer move the rule jumps to the pointer's x and the
 * tooltip shows `hover()(x)` (read at event time, so a hover set after the draw applies); null hides the tooltip.
 * Returns the target, for charts whose overlays (a brush) must forward pointer events to it.
 */
export function drawHoverRule(
  g: d3.Selection<SVGGElement, unknown, null, undefined>,
  x: d3.ScaleLinear<number, number>,
  iw: number,
  ih: number,
  hover: () => ((x: number) => string | null) | null,
): d3.Selection<SVGRectElement, unknown, null, undefined> {
  const rule = g.select<SVGLineElement>("line.hover-rule").attr("y1", 0).attr("y2", ih);
  return g.select<SVGRectElement>("rect.hover-target").attr("width", iw).attr("height", ih)
    .on("pointermove", (ev: PointerEvent) => {
      const f = hover();
      if (!f) return;
      const [mx] = d3.pointer(ev);
      const html = f(x.invert(mx));
      if (html === null) return hideTooltip();
      rule.style("display", null).attr("x1", mx).attr("x2", mx);
      showTooltip(html, ev.clientX, ev.clientY);
    })
    .on("pointerleave", () => {
      rule.style("display", "none");
      hideTooltip();
    });
}

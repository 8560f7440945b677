/**
 * What the Train and RL views share: memory per GPU over the events of one training step or RL iteration. Those
 * timelines order events without timing them, so x is the event's ordinal; the chart is a stepped stackedArea with
 * the phases as background bands, the peak event annotated, and an x window of exactly the events (first to
 * last + 1, so the last event has its width). Hover shows the event under the pointer with every stacked term, top
 * first as drawn, and the total. Above the charts both views show the peak figure and a fits / OOM badge.
 *
 * Example:
 *   drawEventTimeline(chart, el, { events, index: (e) => e.t, total: (e) => e.bytes.total, keys, value, colors,
 *     phaseColors: PHASE_COLORS, height: 280, xLabel: "event of the step (index)", title, refLines, yMax });
 */
import { formatGiB } from "../../../sim/units.ts";
import type { Band, RefLine, StackedArea } from "../charts/stacked-area.ts";
import { tooltipTable } from "../charts/tooltip.ts";
import { okabeIto } from "../ui/palette.ts";
import { gib, exactBytes, esc } from "../ui/format.ts";

/** Contiguous runs of one phase over the event index, as background bands. */
export function phaseBands<E>(events: readonly E[], phaseOf: (e: E) => string, xOf: (e: E, i: number) => number, colors: Record<string, string>): Band[] {
  const bands: Band[] = [];
  events.forEach((e, i) => {
    const p = phaseOf(e);
    const x = xOf(e, i);
    const last = bands[bands.length - 1];
    if (last && last.label === p) last.x1 = x + 1;
    else bands.push({ x0: x, x1: x + 1, label: p, color: colors[p] ?? "#888" });
  });
  return bands;
}

/** An event of a training or RL timeline: its phase ("forward", "generate") and what happened ("layer 3"). */
export interface PhasedEvent {
  phase: string;
  label: string;
}

export interface EventTimelineSpec<E extends PhasedEvent> {
  events: E[];
  /** The event's ordinal: its x. */
  index(e: E): number;
  /** Bytes per GPU after the event, all terms. */
  total(e: E): number;
  /** Stacked bottom-up in this order. */
  keys: readonly string[];
  value(e: E, key: string): number;
  colors: Record<string, string>;
  /** Display names of the keys (tooltip rows); the key itself when absent. */
  labels?: Record<string, string>;
  phaseColors: Record<string, string>;
  height: number;
  xLabel: string;
  title: string;
  refLines: RefLine[];
  yMax: number;
  /** The peak annotation's text; default "peak <the peak event's total>". */
  peakLabel?: string;
  /** The event hovered at x; default the event whose ordinal is ⌊x⌋, none off the events. */
  eventAt?(x: number): E | undefined;
}

/** Sets `chart` up for one GPU's (or group's) event timeline and draws it into `container`. */
export function drawEventTimeline<E extends PhasedEvent>(chart: StackedArea<E>, container: HTMLElement, o: EventTimelineSpec<E>): void {
  const { events } = o;
  const peakIdx = events.reduce((b, e, j) => (o.total(e) > o.total(events[b]) ? j : b), 0);
  const eventAt = o.eventAt ?? ((x: number) => events.find((ev) => o.index(ev) === Math.floor(x)));
  if (o.labels) chart.labels(o.labels);
  chart
    .keys(o.keys)
    .x(o.index)
    .value(o.value)
    .colors(o.colors)
    .step(true)
    .height(o.height)
    .xLabel(o.xLabel)
    .yLabel("memory per GPU (GiB)")
    .title(o.title)
    .bands(phaseBands(events, (e) => e.phase, o.index, o.phaseColors))
    .refLines(o.refLines)
    .annotations(events.length ? [{ x: o.index(events[peakIdx]), y: o.total(events[peakIdx]), label: o.peakLabel ?? `peak ${formatGiB(o.total(events[peakIdx]))}`, color: okabeIto.vermillion }] : [])
    .yMax(o.yMax)
    .xDomain(events.length ? [o.index(events[0]), o.index(events[events.length - 1]) + 1] : null)
    .data(events)
    .hover((x) => {
      const e = eventAt(x);
      if (!e) return null;
      const rows: [string, string, string?][] = o.keys.slice().reverse().map((k) => [o.labels?.[k] ?? k, `${gib(o.value(e, k), 3)}  ${exactBytes(o.value(e, k))}`, o.colors[k]]);
      rows.push(["total", `${gib(o.total(e), 3)}  ${exactBytes(o.total(e))}`]);
      return tooltipTable(`#${o.index(e)} ${esc(e.phase)}: ${esc(e.label)}`, rows);
    });
  chart(container);
}

/** The peak figure: GiB, exact bytes on hover, `data-bytes` for tests, marked when it does not fit. */
export function showPeak(el: HTMLElement, bytes: number, oom: boolean): void {
  el.textContent = formatGiB(bytes);
  el.title = exactBytes(bytes);
  el.dataset.bytes = String(bytes);
  el.classList.toggle("oom", oom);
}

/** The fits / OOM badge beside the peak. */
export function fitsBadge(fits: boolean, freeBytes: number, oomByBytes: number): string {
  return fits
    ? `<span class="badge state-running">fits (${gib(freeBytes)} free)</span>`
    : `<span class="badge state-failed">OOM by ${gib(oomByBytes)}</span>`;
}

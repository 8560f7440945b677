/**
 * The Article view: the seed reconciliation — each figure of the source article ("memory anatomy"), what its own
 * formula and inputs give when recomputed, what the product computes for a real model, and why they differ.
 * Rows come from `seedRows()` in sim/seed (the same rows `vramscope seed` prints). A dot per row shows the
 * article's figure against the recomputation on a ratio scale, so the slips stand out at a glance.
 */
import { seedRows, type SeedRow } from "../../../sim/seed/index.ts";
import { html, $ } from "../ui/dom.ts";
import { esc, num } from "../ui/format.ts";
import type { View } from "./view.ts";

function fmt(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return `${num(v, v >= 100 ? 1 : v >= 1 ? 2 : 4)} ${unit}`;
}

/** A tiny inline SVG: article/recomputed ratio on a log scale from ×0.5 to ×2 (1 = agrees). */
function ratioDot(r: SeedRow): string {
  if (r.articleValue === null || !(r.recomputed > 0)) return `<span class="muted">no figure</span>`;
  const ratio = r.articleValue / r.recomputed;
  const x = Math.max(2, Math.min(118, 60 + (Math.log2(ratio) / 1) * 58));
  const color = r.differs ? "#D55E00" : "#009E73";
  return `<svg width="120" height="14" role="img" aria-label="article / recomputed = ${ratio.toFixed(3)}"><line x1="60" x2="60" y1="0" y2="14" stroke="currentColor" stroke-opacity=".4"/><line x1="2" x2="118" y1="7" y2="7" stroke="currentColor" stroke-opacity=".2"/><circle cx="${x}" cy="7" r="4" fill="${color}"/></svg> <span class="mono">×${ratio.toFixed(3)}</span>`;
}

export function articleView(): View {
  const el = html(`
    <div class="col" data-view="article">
      <section class="panel" aria-labelledby="ar-h">
        <div class="panel-head"><h2 id="ar-h">The article's figures, recomputed</h2>
          <span class="aside" id="ar-count"></span></div>
        <p class="note">Each row: the figure as the article prints it, the same formula with the article's own inputs, the product's figure for a real model (GQA-aware, every term counted), and why they differ. Dot: article ÷ recomputed on a log scale (centre = agrees; ×0.5 left, ×2 right); <span class="differs-key">vermillion</span> = differs by more than rounding.</p>
        <div style="overflow:auto" tabindex="0" role="region" aria-label="article figures table"><table class="data" id="ar-table" data-testid="article-table"></table></div>
      </section>
    </div>`);
  let rows: SeedRow[] = [];
  let error = "";
  try {
    rows = seedRows();
  } catch (e) {
    error = (e as Error).message;
  }
  const sections = [...new Set(rows.map((r) => r.section))];
  $(el, "#ar-count").textContent = error ? `could not compute: ${error}` : `${rows.length} figures · ${rows.filter((r) => r.differs).length} differ`;
  $(el, "#ar-table").innerHTML =
    `<thead><tr><th>item</th><th>article</th><th class="num">recomputed</th><th class="num">real model</th><th>article ÷ recomputed</th><th>why</th></tr></thead>` +
    sections
      .map(
        (s) =>
          `<tbody><tr><th colspan="6" scope="colgroup">${esc(s)}</th></tr>` +
          rows
            .filter((r) => r.section === s)
            .map(
              (r) =>
                `<tr class="${r.differs ? "differs" : ""}"><td>${esc(r.item)}</td><td class="mono">${esc(r.articleText)}</td><td class="num delta">${fmt(r.recomputed, r.unit)}</td><td class="num">${fmt(r.realModelValue, r.unit)}${r.realModel ? `<div class="note">${esc(r.realModel)}</div>` : ""}</td><td>${ratioDot(r)}</td><td class="note">${esc(r.note)}</td></tr>`,
            )
            .join("") +
          "</tbody>",
      )
      .join("");
  return { el, destroy() {} };
}

/**
 * Live metrics of a replay: TTFT / TPOT / e2e percentiles with small histograms, throughput, preemptions,
 * recomputed tokens, prefix-cache hit rate, KV usage. While the run streams, the values are read off the streamed
 * request events (what has finished so far); when the `summary` arrives they are replaced by the engine's own
 * report (`ReplaySummary`), which is what the CLI prints for the same run.
 */
import * as d3 from "d3";
import type { ServeStore } from "../data/serve-store.ts";
import { histogram } from "../charts/histogram.ts";
import { html, $, nextId } from "./dom.ts";
import { seconds, int, pct, num } from "./format.ts";
import { okabeIto } from "./palette.ts";

export interface ServeMetrics {
  el: HTMLElement;
  update(store: ServeStore): void;
}

export function serveMetrics(): ServeMetrics {
  const id = nextId("met");
  const el = html(`
    <section class="panel" aria-labelledby="${id}-h">
      <div class="panel-head"><h2 id="${id}-h">Metrics</h2><span class="aside" id="${id}-src">live</span></div>
      <div class="metrics">
        <div class="metric" data-metric="ttft"><div class="label">TTFT p50 / p99</div><div class="value" id="${id}-ttft">–</div><div id="${id}-ttfth"></div></div>
        <div class="metric" data-metric="tpot"><div class="label">TPOT p50 / p99</div><div class="value" id="${id}-tpot">–</div><div id="${id}-tpoth"></div></div>
        <div class="metric" data-metric="e2e"><div class="label">e2e p50 / p99</div><div class="value" id="${id}-e2e">–</div><div id="${id}-e2eh"></div></div>
        <div class="metric"><div class="label">output throughput</div><div class="value" id="${id}-thr">–</div><div class="sub" id="${id}-thr2"></div></div>
        <div class="metric"><div class="label">preemptions</div><div class="value" id="${id}-pre" data-testid="preemptions">0</div><div class="sub" id="${id}-rec"></div></div>
        <div class="metric"><div class="label">prefix-cache hit rate</div><div class="value" id="${id}-hit">–</div><div class="sub" id="${id}-hit2"></div></div>
        <div class="metric"><div class="label">KV usage now / peak</div><div class="value" id="${id}-kv">–</div><div class="sub" id="${id}-blk"></div></div>
        <div class="metric"><div class="label">running / waiting</div><div class="value" id="${id}-rw">–</div><div class="sub" id="${id}-done"></div></div>
      </div>
    </section>`);
  const hTtft = histogram().color(okabeIto.bluishGreen).label("TTFT (s)").unit(" s");
  const hTpot = histogram().color(okabeIto.blue).label("TPOT (s)").unit(" s");
  const hE2e = histogram().color(okabeIto.orange).label("e2e latency (s)").unit(" s");
  let lastVersion = -1;
  let lastDraw = 0;

  /** p50 and p99 of the live values, sorting one copy (the arrays grow to every finished request). */
  function p50p99(values: number[]): [number | null, number | null] {
    if (values.length === 0) return [null, null];
    const s = values.slice().sort((a, b) => a - b);
    return [d3.quantileSorted(s, 0.5) ?? null, d3.quantileSorted(s, 0.99) ?? null];
  }

  return {
    el,
    update(store) {
      const now = performance.now();
      if (store.version === lastVersion) return;
      // Histograms re-bin every value: a few times a second is plenty while streaming.
      if (!store.summary && now - lastDraw < 500) return;
      lastVersion = store.version;
      lastDraw = now;
      const r = store.requests;
      const s = store.summary;
      const set = (k: string, v: string) => ($(el, `#${id}-${k}`).textContent = v);
      $(el, `#${id}-src`).textContent = s ? "final (engine summary)" : `live, ${int(r.finishedCount)} finished so far`;
      const pp = (live: number[], fin?: { p50: number; p99: number }) =>
        fin ? `${seconds(fin.p50)} / ${seconds(fin.p99)}` : p50p99(live).map(seconds).join(" / ");
      set("ttft", pp(r.ttfts, s?.ttft));
      set("tpot", pp(r.tpots, s?.tpot));
      set("e2e", pp(r.e2es, s?.e2e));
      const t = Math.max(1e-9, store.t);
      set("thr", s ? `${num(s.throughput.outputTokensPerS, 0)} tok/s` : `${num(r.outputTokensFinished / t, 0)} tok/s`);
      set("thr2", s ? `${num(s.throughput.requestsPerS, 2)} req/s · ${num(s.throughput.inputTokensPerS, 0)} in tok/s` : `${num(r.finishedCount / t, 2)} req/s`);
      set("pre", int(s ? s.preemptions : Math.max(store.totals.preemptions, r.preemptions)));
      // Live: the KV tokens preemptions dropped; final: the engine's recomputed tokens (drops minus prefix hits on resume).
      set("rec", s ? `${int(s.recomputedTokens)} tokens recomputed` : `${int(r.recomputedTokens)} tokens dropped by preemption`);
      set("hit", s ? pct(s.prefixCacheHitRate) : pct(r.promptTokensAdmitted ? r.cachedTokensTotal / r.promptTokensAdmitted : null));
      set("hit2", s ? `${int(s.prefixCacheHitTokens)} of ${int(s.prefixCacheQueries)} tokens` : `${int(r.cachedTokensTotal)} cached prompt tokens`);
      const last = store.snapshots[store.snapshots.length - 1];
      const peak = s?.peakKvUsage ?? (store.snapshots.length ? d3.max(store.snapshots, (d) => d.kvUsage)! : null);
      set("kv", `${pct(last?.kvUsage ?? null)} / ${pct(peak)}`);
      set("blk", last ? `${int(last.numUsedBlocks)} used · ${int(last.numCachedFreeBlocks)} cached · ${int(last.numFreeBlocks)} free` : "");
      set("rw", last ? `${int(last.numRunning)} / ${int(last.numWaiting)}` : "–");
      set("done", s ? `${int(s.completed)} of ${int(s.requests)} completed, ${int(s.rejected)} rejected` : `${int(store.totals.arrivals)} arrived · ${int(store.totals.finished)} finished`);
      hTtft.values(r.ttfts).marks(s ? [{ x: s.ttft.p99, label: "p99" }] : [])($(el, `#${id}-ttfth`));
      hTpot.values(r.tpots).marks(s ? [{ x: s.tpot.p99, label: "p99" }] : [])($(el, `#${id}-tpoth`));
      hE2e.values(r.e2es).marks(s ? [{ x: s.e2e.p99, label: "p99" }] : [])($(el, `#${id}-e2eh`));
    },
  };
}

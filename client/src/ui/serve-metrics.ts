/**
 * Live metrics of a replay: TTFT / TPOT / e2e percentiles with small histograms, throughput, preemptions,
 * recomputed tokens, prefix-cache hit rate, KV usage. Every figure is the engine's own report (`ReplaySummary`):
 * while the run streams, the one frames carry as `live` (over the requests finished by its `liveT`); when the `summary`
 * arrives, the final one — what `vramscope replay --json` prints for the same run. The page computes none of them;
 * the histograms bin the streamed per-request latencies for drawing.
 */
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
      const final = store.summary !== null;
      // Every figure is the engine's: its final report, or its report so far (frames' `live`).
      const s = store.summary ?? store.live;
      const set = (k: string, v: string) => ($(el, `#${id}-${k}`).textContent = v);
      $(el, `#${id}-src`).textContent = final ? "final (engine summary)" : s ? `live (engine, ${int(s.completed)} finished by t = ${num(store.liveT, 1)} s)` : "live";
      const pp = (p?: { p50: number; p99: number }) => (s && s.completed > 0 && p ? `${seconds(p.p50)} / ${seconds(p.p99)}` : "–");
      set("ttft", pp(s?.ttft));
      set("tpot", pp(s?.tpot));
      set("e2e", pp(s?.e2e));
      set("thr", s ? `${num(s.throughput.outputTokensPerS, 0)} tok/s` : "–");
      set("thr2", s ? `${num(s.throughput.requestsPerS, 2)} req/s · ${num(s.throughput.inputTokensPerS, 0)} in tok/s` : "");
      set("pre", int(s ? Math.max(s.preemptions, store.totals.preemptions) : store.totals.preemptions));
      set("rec", s ? `${int(s.recomputedTokens)} tokens recomputed` : "");
      set("hit", s ? pct(s.prefixCacheHitRate) : "–");
      set("hit2", s ? `${int(s.prefixCacheHitTokens)} of ${int(s.prefixCacheQueries)} tokens` : "");
      const last = store.snapshots[store.snapshots.length - 1];
      set("kv", `${pct(last?.kvUsage ?? null)} / ${pct(s?.peakKvUsage ?? null)}`);
      set("blk", last ? `${int(last.numUsedBlocks)} used · ${int(last.numCachedFreeBlocks)} cached · ${int(last.numFreeBlocks)} free` : "");
      set("rw", last ? `${int(last.numRunning)} / ${int(last.numWaiting)}` : "–");
      set("done", final ? `${int(s!.completed)} of ${int(s!.requests)} completed, ${int(s!.rejected)} rejected` : `${int(store.totals.arrivals)} arrived · ${int(store.totals.finished)} finished`);
      // The histograms draw the per-request values streamed so far; the p99 mark is the engine's.
      const mark = (p?: { p99: number }) => (s && s.completed > 0 && p ? [{ x: p.p99, label: "p99" }] : []);
      hTtft.values(r.ttfts).marks(mark(s?.ttft))($(el, `#${id}-ttfth`));
      hTpot.values(r.tpots).marks(mark(s?.tpot))($(el, `#${id}-tpoth`));
      hE2e.values(r.e2es).marks(mark(s?.e2e))($(el, `#${id}-e2eh`));
    },
  };
}

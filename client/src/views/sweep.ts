/**
 * The Sweep view: a budget sweep's curves — output throughput, p99 TTFT and preemptions against the varied memory
 * knob (gpu-memory-utilization or max-num-seqs), one line per GPU/TP choice — with the recommended point ringed
 * and the recommendation's reason quoted. The sweep runs in a Web Worker with the engine's own
 * `runSweepSequential` over a seeded synthetic trace, so it is the same computation as `vramscope sweep`.
 */
import * as d3 from "d3";
import { listModels } from "../../../sim/model/registry.ts";
import { listGpus } from "../../../sim/hardware/registry.ts";
import { parseVary } from "../../../sim/sweep/spec.ts";
import type { SweepResult, SweepSpec, PointResult } from "../../../sim/sweep/types.ts";
import type { SynthSpec } from "../../../sim/traces/synth.ts";
import { isUserError } from "../../../sim/errors.ts";
import { productSize } from "../../../sim/sweep/spec.ts";
import { RunStream } from "../data/run-stream.ts";
import { postJson, deleteRun, ApiError, cancelOnPageHide } from "../data/api.ts";
import { lineChart, type LineSeries } from "../charts/line-chart.ts";
import { tooltipTable } from "../charts/tooltip.ts";
import { knobForm, type Knob, type KnobValue } from "../ui/knob-form.ts";
import { html, $ } from "../ui/dom.ts";
import { okabeIto } from "../ui/palette.ts";
import { esc, int, num, seconds, pct } from "../ui/format.ts";
import type { View } from "./view.ts";

const LINE_COLORS = [okabeIto.blue, okabeIto.orange, okabeIto.bluishGreen, okabeIto.reddishPurple, okabeIto.vermillion, okabeIto.skyBlue, okabeIto.yellow, "#999999"];
const DASHES = [undefined, "6,3", "2,2", "8,3,2,3"];

const KNOBS: Knob[] = [
  { name: "source", label: "run on", kind: "select", default: "server", options: [{ value: "server", label: "server (a real trace)" }, { value: "browser", label: "this page (synthetic trace)" }] },
  { name: "trace", label: "trace (server)", kind: "text", default: "azure-2023-conv", flags: ["config.trace", "trace"], title: "embedded trace name or upload id (GET /api/traces)" },
  { name: "model", label: "model", kind: "select", default: "meta-llama/Llama-3.1-8B-Instruct", options: listModels(), flags: ["--model"] },
  { name: "axis", label: "x axis (varied)", kind: "select", default: "gpu-memory-utilization", options: ["gpu-memory-utilization", "max-num-seqs"] },
  { name: "values", label: "x values", kind: "text", default: "0.3:0.9:0.1", flags: ["--vary"], title: "START:END:STEP or a,b,c" },
  { name: "gpus", label: "GPUs (lines)", kind: "text", default: "L40S-48GB,H100-SXM-80GB", flags: ["--vary"], title: "comma-separated GPU presets" },
  { name: "tps", label: "TP sizes (lines)", kind: "text", default: "1", flags: ["--vary"], title: "comma-separated" },
  { name: "mml", label: "max-model-len", kind: "number", default: 8192, min: 1, step: 1, flags: ["--max-model-len"] },
  { name: "n", label: "requests (first N / synthetic)", kind: "number", default: 400, min: 10, max: 20000, step: 10 },
  { name: "rate", label: "synthetic rate (req/s)", kind: "number", default: 6, min: 0.1, step: 0.1 },
  { name: "plen", label: "synthetic prompt (median)", kind: "number", default: 1024, min: 1, step: 1 },
  { name: "olen", label: "synthetic output (median)", kind: "number", default: 256, min: 1, step: 1 },
  { name: "ttft", label: "SLO p99 TTFT (s)", kind: "number", default: 2, min: 0, step: 0.1 },
  { name: "tpot", label: "SLO p99 TPOT (s)", kind: "number", default: 0.1, min: 0, step: 0.01 },
];

export function sweepView(): View {
  const el = html(`
    <div class="grid-serve" data-view="sweep">
      <div class="col">
        <section class="panel" aria-labelledby="sw-h">
          <div class="panel-head"><h2 id="sw-h">Budget sweep</h2><span class="aside" id="sw-status" role="status" aria-live="polite">not run yet</span></div>
          <div class="note" id="sw-reco" data-testid="sweep-recommendation"></div>
          <div class="two">
            <div><h3>output throughput</h3><div class="chart" id="sw-thr"></div></div>
            <div><h3>p99 TTFT</h3><div class="chart" id="sw-ttft"></div></div>
            <div><h3>preemptions</h3><div class="chart" id="sw-pre"></div></div>
            <div><h3>p99 TPOT</h3><div class="chart" id="sw-tpot"></div></div>
          </div>
        </section>
        <section class="panel" aria-labelledby="sw-t-h">
          <div class="panel-head"><h2 id="sw-t-h">Points</h2></div>
          <div style="overflow:auto;max-height:320px" tabindex="0" role="region" aria-label="sweep points table"><table class="data" id="sw-table"></table></div>
        </section>
      </div>
      <div class="col" id="sw-side"></div>
    </div>`);
  const form = knobForm("Sweep", KNOBS, () => {}, `<div class="row" style="margin-top:8px"><button type="button" class="btn primary" id="sw-run">Run sweep</button><progress id="sw-prog" max="1" value="0" aria-label="sweep progress"></progress></div>`);
  $(el, "#sw-side").append(form.el);
  const charts = {
    thr: lineChart().dots(true).yLabel("output tok/s").title("Output throughput against the varied knob"),
    ttft: lineChart().dots(true).yLabel("p99 TTFT (s)").yFormat(d3.format("~g")).title("p99 time to first token against the varied knob"),
    pre: lineChart().dots(true).integerY(true).yLabel("preemptions").title("Preemptions against the varied knob"),
    tpot: lineChart().dots(true).yLabel("p99 TPOT (s)").yFormat(d3.format("~g")).title("p99 time per output token against the varied knob"),
  };
  let worker: Worker | null = null;
  let stream: RunStream | null = null;
  let runId: string | null = null;
  /** The sweep drawn: partial (points so far, no recommendation yet) while a server run streams. */
  let result: (Omit<SweepResult, "recommendation"> & { recommendation: SweepResult["recommendation"] | null }) | null = null;

  function buildJob(v: Record<string, KnobValue>): { spec: SweepSpec; synth: SynthSpec } {
    const axis = String(v.axis);
    const vary = [parseVary(`${axis}=${String(v.values)}`), parseVary(`gpu=${String(v.gpus)}`), parseVary(`tensor-parallel-size=${String(v.tps)}`)];
    const slo: SweepSpec["slo"] = {};
    if (Number(v.ttft) > 0) slo.ttftP99 = Number(v.ttft);
    if (Number(v.tpot) > 0) slo.tpotP99 = Number(v.tpot);
    return {
      spec: { base: { model: String(v.model), maxModelLen: Number(v.mml) }, vary, slo, prices: {}, trace: `synthetic ${v.n} req @ ${v.rate}/s` },
      synth: {
        numRequests: Number(v.n), requestRate: Number(v.rate), seed: 0,
        promptLen: { kind: "lognormal", median: Number(v.plen), sigma: 0.6, max: 8192 },
        outputLen: { kind: "lognormal", median: Number(v.olen), sigma: 0.6, max: 4096 },
      },
    };
  }

  function run() {
    let job;
    const v = form.values();
    try {
      job = buildJob(v);
      form.showError(null);
    } catch (e) {
      if (!isUserError(e)) throw e;
      form.showError(e.message, e.field);
      return;
    }
    worker?.terminate();
    stream?.close();
    if (runId) void deleteRun(runId);
    runId = null;
    const prog = $<HTMLProgressElement>(el, "#sw-prog");
    const total = productSize(job.spec.vary);
    prog.max = total;
    prog.value = 0;
    $(el, "#sw-status").textContent = "running…";
    if (v.source === "server") return void runOnServer(job.spec, String(v.trace), Number(v.n), total, prog);
    worker = new Worker(new URL("../workers/sweep-worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { type: string; done?: number; total?: number; result?: SweepResult; message?: string; field?: string };
      if (m.type === "progress") {
        prog.max = m.total!;
        prog.value = m.done!;
        $(el, "#sw-status").textContent = `running in this page: ${m.done} of ${m.total} points`;
      } else if (m.type === "result") {
        result = m.result!;
        $(el, "#sw-status").textContent = `${result.points.length} points done (synthetic trace, in this page)`;
        draw();
      } else if (m.type === "error") {
        $(el, "#sw-status").textContent = "failed";
        form.showError(m.message ?? "sweep failed", m.field);
      }
    };
    worker.postMessage(job);
  }

  /** The server's `sweep` run kind: points stream in frame `extra`, the SweepResult arrives in the summary. */
  async function runOnServer(spec: SweepSpec, trace: string, maxRequests: number, total: number, prog: HTMLProgressElement) {
    const config: Record<string, unknown> = {
      ...spec.base, trace, maxRequests,
      vary: spec.vary.map((p) => `${p.name}=${p.values.join(",")}`),
    };
    if (spec.slo.ttftP99 !== undefined) config.sloTtftP99 = spec.slo.ttftP99;
    if (spec.slo.tpotP99 !== undefined) config.sloTpotP99 = spec.slo.tpotP99;
    const partial = { version: 1 as const, spec: { ...spec, trace }, totalPoints: total, shard: null, points: [] as PointResult[], recommendation: null, knees: [] };
    result = partial;
    try {
      const res = await postJson<{ id: string }>("/api/runs", { kind: "sweep", config, speed: "max" });
      runId = res.id;
      stream = new RunStream(res.id, {
        onMessage: (m) => {
          if (m.type === "frame" && m.extra?.length) {
            partial.points.push(...(m.extra as PointResult[]));
            prog.value = partial.points.length;
            $(el, "#sw-status").textContent = `running on the server (${trace}, first ${maxRequests} requests): ${partial.points.length} of ${total} points`;
            draw();
          } else if (m.type === "summary" && m.result) {
            result = m.result as SweepResult;
            prog.value = total;
            $(el, "#sw-status").textContent = `${result.points.length} points done (${trace}, first ${maxRequests} requests, on the server)`;
            draw();
          } else if (m.type === "state" && m.state === "created") {
            stream?.send({ type: "play" });
          } else if (m.type === "state" && m.state === "failed") {
            $(el, "#sw-status").textContent = "failed";
            form.showError(m.message ?? "sweep failed");
          } else if (m.type === "hello" && m.state === "created") {
            stream?.send({ type: "play" });
          }
        },
      });
      stream.open();
    } catch (e) {
      $(el, "#sw-status").textContent = "not started";
      form.showError(e instanceof ApiError ? e.message : String(e), e instanceof ApiError ? e.field : undefined);
    }
  }
  $(form.el, "#sw-run").addEventListener("click", run);

  function draw() {
    if (!result) return;
    const r = result;
    const axis = r.spec.vary[0].name;
    const lineKey = (p: PointResult) => r.spec.vary.slice(1).map((v) => `${v.name === "tensor-parallel-size" ? "TP" : ""}${p.params[v.name]}`).join(" · ");
    const keys = [...new Set(r.points.map(lineKey))];
    const feasible = r.points.filter((p) => p.feasible && p.metrics);
    const series = (f: (p: PointResult) => number): LineSeries[] =>
      keys.map((k, i) => ({
        key: k, label: k, color: LINE_COLORS[i % LINE_COLORS.length], dash: DASHES[Math.floor(i / LINE_COLORS.length) % DASHES.length],
        values: feasible.filter((p) => lineKey(p) === k).map((p) => ({ x: Number(p.params[axis]), y: f(p) })).sort((a, b) => a.x - b.x),
      }));
    const reco = r.recommendation?.point ?? null;
    const mark = (f: (p: PointResult) => number) => (reco?.metrics ? [{ x: Number(reco.params[axis]), y: f(reco), label: "recommended", color: okabeIto.vermillion }] : []);
    const hover = (x: number) => {
      const near = feasible.filter((p) => Math.abs(Number(p.params[axis]) - x) < 1e-9 + Math.abs(x) * 0.04 + (axis === "max-num-seqs" ? 2 : 0.02));
      if (!near.length) return null;
      return tooltipTable(`${axis} = ${near[0].params[axis]}`, near.map((p) => [lineKey(p), `${num(p.metrics!.throughput.outputTokensPerS, 0)} tok/s · TTFT p99 ${seconds(p.metrics!.ttft.p99)} · ${int(p.metrics!.preemptions)} preempt.`]));
    };
    const f = {
      thr: (p: PointResult) => p.metrics!.throughput.outputTokensPerS,
      ttft: (p: PointResult) => p.metrics!.ttft.p99,
      pre: (p: PointResult) => p.metrics!.preemptions,
      tpot: (p: PointResult) => p.metrics!.tpot.p99,
    };
    for (const k of Object.keys(charts) as (keyof typeof charts)[]) {
      charts[k].xLabel(axis).series(series(f[k])).points(mark(f[k])).hover(hover).height(200);
      charts[k]($(el, `#sw-${k}`));
    }
    $(el, "#sw-reco").innerHTML = r.recommendation
      ? `<strong>${reco ? "Recommended" : "No point qualifies"}:</strong> ${esc(r.recommendation.reason)} <span class="muted">(ranked by ${esc(r.recommendation.rankedBy.join(", "))}; ${r.recommendation.qualifying} qualifying)</span>`
      : `<span class="muted">points arriving… the recommendation comes with the last one</span>`;
    $(el, "#sw-table").innerHTML =
      `<thead><tr>${r.spec.vary.map((v) => `<th>${esc(v.name)}</th>`).join("")}<th class="num">out tok/s</th><th class="num">goodput</th><th class="num">TTFT p99</th><th class="num">TPOT p99</th><th class="num">preempt.</th><th class="num">recomputed</th><th class="num">peak KV</th><th>SLO</th></tr></thead><tbody>` +
      r.points.map((p) => {
        const m = p.metrics;
        const cells = r.spec.vary.map((v) => `<td>${esc(p.params[v.name])}</td>`).join("");
        if (!p.feasible || !m) return `<tr>${cells}<td colspan="8" class="note">infeasible: ${esc(p.reason ?? "")}</td></tr>`;
        return `<tr${reco && reco.index === p.index ? ' style="outline:2px solid var(--danger)"' : ""}>${cells}<td class="num">${num(m.throughput.outputTokensPerS, 0)}</td><td class="num">${pct(m.goodput.fraction)}</td><td class="num">${seconds(m.ttft.p99)}</td><td class="num">${seconds(m.tpot.p99)}</td><td class="num">${int(m.preemptions)}</td><td class="num">${pct(m.recomputedTokenShare)}</td><td class="num">${pct(m.peakKvUsage)}</td><td>${p.meetsSlo ? "✓" : (p.violations ?? []).map((v) => `${v.constraint} +${pct(v.excess, 0)}`).join(", ")}</td></tr>`;
      }).join("") + "</tbody>";
  }

  const onResize = () => draw();
  window.addEventListener("resize", onResize);
  const stopCancelOnHide = cancelOnPageHide(() => runId);
  queueMicrotask(run);
  return {
    el,
    refresh: draw,
    destroy: () => {
      worker?.terminate();
      stream?.close();
      if (runId) void deleteRun(runId);
      stopCancelOnHide();
      window.removeEventListener("resize", onResize);
    },
  };
}

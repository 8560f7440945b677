/**
 * The Train view: one training step's memory per device (one chart per pipeline stage, side by side) as a stacked
 * area of params, master weights, grads, optimizer states, activations, the logits spike and overheads over the
 * step's events, with forward / loss / backward / reduce / optimizer phases as bands, the peak annotated and the
 * GPU's memory as the OOM line. Everything comes from `sim/training` (computeTrainingMemory, trainingTimeline),
 * computed in the page on every knob change — the same functions `vramscope train` prints.
 */
import { computeTrainingMemory, trainingTimeline, OPTIMIZERS, PRECISIONS, type TrainingConfig, type TimelineEvent, type TrainingReport } from "../../../sim/training/index.ts";
import { resolveModel, listModels } from "../../../sim/model/registry.ts";
import { resolveGpu, listGpus } from "../../../sim/hardware/registry.ts";
import { isUserError } from "../../../sim/errors.ts";
import { formatGiB } from "../../../sim/units.ts";
import { stackedArea, legendHtml } from "../charts/stacked-area.ts";
import { knobForm, type Knob, type KnobValue } from "../ui/knob-form.ts";
import { html, $ } from "../ui/dom.ts";
import { trainingComponentColors, okabeIto } from "../ui/palette.ts";
import { gib, exactBytes, esc, int } from "../ui/format.ts";
import { drawEventTimeline, fitsBadge, showPeak } from "./event-timeline.ts";
import type { View } from "./view.ts";

export const TRAIN_KEYS = ["params", "masterWeights", "grads", "optimizer", "activations", "logits", "overhead"] as const;
export const TRAIN_LABELS: Record<string, string> = {
  params: "parameters", masterWeights: "fp32 master weights", grads: "gradients", optimizer: "optimizer states",
  activations: "activations", logits: "logits / loss", overhead: "overhead (context, buckets, gathers, reserve)",
};
export const PHASE_COLORS: Record<string, string> = {
  setup: "#999999", forward: okabeIto.skyBlue, loss: okabeIto.vermillion, backward: okabeIto.reddishPurple,
  reduce: okabeIto.bluishGreen, optimizer: okabeIto.yellow,
};

const KNOBS: Knob[] = [
  { name: "model", label: "model", kind: "select", default: "meta-llama/Llama-3.1-8B-Instruct", options: listModels(), flags: ["--model"] },
  { name: "gpu", label: "GPU", kind: "select", default: "H100-SXM-80GB", options: listGpus(), flags: ["--gpu"] },
  { name: "gpus", label: "GPUs (world size)", kind: "number", default: 8, min: 1, step: 1, flags: ["--gpus"] },
  { name: "zero", label: "ZeRO stage (3 = FSDP)", kind: "select", default: "3", options: ["0", "1", "2", "3"], flags: ["--zero-stage"] },
  { name: "tp", label: "tensor parallel", kind: "number", default: 1, min: 1, step: 1, flags: ["--tp"] },
  { name: "pp", label: "pipeline stages", kind: "number", default: 1, min: 1, step: 1, flags: ["--pp"] },
  { name: "sp", label: "sequence parallel", kind: "checkbox", default: false, flags: ["--sp"] },
  { name: "ckpt", label: "activation checkpointing", kind: "select", default: "none", options: ["none", "full", "selective", "every-k:2", "every-k:4", "every-k:8"], flags: ["--activation-checkpointing"] },
  { name: "mbs", label: "micro-batch size", kind: "number", default: 1, min: 1, step: 1, flags: ["--micro-batch-size"] },
  { name: "seq", label: "sequence length", kind: "number", default: 4096, min: 1, step: 1, flags: ["--seq-len"] },
  { name: "mb", label: "micro-batches", kind: "number", default: "", min: 1, step: 1, optional: true, flags: ["--micro-batches"] },
  { name: "sched", label: "pipeline schedule", kind: "select", default: "1f1b", options: ["1f1b", "interleaved"], flags: ["--pipeline-schedule"] },
  { name: "precision", label: "precision", kind: "select", default: "zero", options: PRECISIONS, flags: ["--precision"] },
  { name: "optimizer", label: "optimizer", kind: "select", default: "adamw", options: OPTIMIZERS, flags: ["--optimizer"] },
  { name: "flash", label: "flash attention", kind: "checkbox", default: true, flags: ["--flash-attention"] },
];

/** The TrainingConfig the knobs stand for (the same object `vramscope train` builds from the same flags). */
export function trainConfigOf(v: Record<string, KnobValue>): TrainingConfig {
  const c: TrainingConfig = {
    model: resolveModel(String(v.model)),
    gpu: resolveGpu(String(v.gpu)),
    numGpus: Number(v.gpus),
    zeroStage: Number(v.zero) as 0 | 1 | 2 | 3,
    tp: Number(v.tp),
    pp: Number(v.pp),
    sequenceParallel: Boolean(v.sp),
    activationCheckpointing: String(v.ckpt) as TrainingConfig["activationCheckpointing"],
    microBatchSize: Number(v.mbs),
    seqLen: Number(v.seq),
    pipelineSchedule: String(v.sched) as TrainingConfig["pipelineSchedule"],
    precision: String(v.precision) as TrainingConfig["precision"],
    optimizer: String(v.optimizer) as TrainingConfig["optimizer"],
    flashAttention: Boolean(v.flash),
  };
  if (v.mb !== "" && v.mb !== undefined) c.numMicroBatches = Number(v.mb);
  return c;
}

export function trainView(): View {
  const el = html(`
    <div class="grid-serve" data-view="train">
      <div class="col">
        <section class="panel" aria-labelledby="tr-h">
          <div class="panel-head"><h2 id="tr-h">Training step memory per device</h2><span class="muted" id="tr-facts"></span>
            <span class="aside">x: events of one optimizer step · hover for exact bytes</span></div>
          <div class="row"><span>peak per GPU</span><span class="peak" id="tr-peak" data-testid="train-peak">–</span><span class="muted" id="tr-peak-at"></span><span id="tr-verdict"></span></div>
          <div class="legend" id="tr-legend"></div>
          <div class="devices" id="tr-devices"></div>
        </section>
        <section class="panel" aria-labelledby="tr-t-h">
          <div class="panel-head"><h2 id="tr-t-h">Per-device accounting at each device's peak</h2></div>
          <div style="overflow:auto" tabindex="0" role="region" aria-label="per-device accounting table"><table class="data" id="tr-table"></table></div>
          <div id="tr-suggest" class="note"></div>
          <pre class="loglines" id="tr-notes"></pre>
        </section>
      </div>
      <div class="col" id="tr-side"></div>
    </div>`);
  const form = knobForm("Training config", KNOBS, () => update());
  $(el, "#tr-side").append(form.el);
  $(el, "#tr-legend").innerHTML =
    legendHtml(TRAIN_KEYS.map((k) => ({ label: TRAIN_LABELS[k], color: trainingComponentColors[k] }))) +
    legendHtml(Object.entries(PHASE_COLORS).map(([k, c]) => ({ label: `phase: ${k}`, color: c, outline: true }))) +
    legendHtml([{ label: "GPU memory (OOM line)", color: okabeIto.vermillion, outline: true }]);
  let charts: ReturnType<typeof stackedArea<TimelineEvent>>[] = [];
  let last: { report: TrainingReport; timelines: TimelineEvent[][] } | null = null;

  function update() {
    let report: TrainingReport;
    let timelines: TimelineEvent[][];
    try {
      const cfg = trainConfigOf(form.values());
      report = computeTrainingMemory(cfg, { suggest: true });
      timelines = report.devices.map((_d, i) => trainingTimeline(cfg, { stage: i }).events);
      form.showError(null);
    } catch (e) {
      if (!isUserError(e)) throw e;
      form.showError(e.message, e.field);
      return;
    }
    last = { report, timelines };
    draw();
  }

  function draw() {
    if (!last) return;
    const { report, timelines } = last;
    const cfg = report.config;
    const gpuBytes = report.gpuMemoryBytes ?? 0;
    $(el, "#tr-facts").textContent = `${cfg.model?.name ?? `${int(cfg.numParams)} params`} · ${cfg.gpu?.name ?? ""} · DP ${cfg.dp} × TP ${cfg.tp} × PP ${cfg.pp} · ${int(cfg.numParams)} params`;
    showPeak($(el, "#tr-peak"), report.peakBytes, report.fits === false);
    $(el, "#tr-peak-at").textContent = `stage ${report.peakDevice}: ${report.devices[report.peakDevice].peakAt}`;
    $(el, "#tr-verdict").innerHTML = report.fits === undefined ? "" : fitsBadge(report.fits, gpuBytes - report.peakBytes, report.oomByBytes ?? 0);
    const box = $(el, "#tr-devices");
    if (charts.length !== timelines.length) {
      box.replaceChildren();
      charts = timelines.map(() => stackedArea<TimelineEvent>());
      timelines.forEach((_t, i) => box.append(html(`<div><h3>device ${i}${timelines.length > 1 ? ` (pipeline stage ${i})` : ""}</h3><div class="chart" data-testid="train-device-${i}"></div></div>`)));
    }
    timelines.forEach((events, i) => {
      const dev = report.devices[i];
      drawEventTimeline(charts[i], box.querySelectorAll<HTMLElement>(".chart")[i], {
        events,
        index: (e) => e.t,
        total: (e) => e.bytes.total,
        keys: TRAIN_KEYS,
        value: (e, k) => (e.bytes as unknown as Record<string, number>)[k],
        colors: trainingComponentColors,
        labels: TRAIN_LABELS,
        phaseColors: PHASE_COLORS,
        height: timelines.length > 2 ? 220 : 280,
        xLabel: "event of the step (index)",
        title: `Training step memory timeline of device ${i}`,
        refLines: gpuBytes ? [{ y: gpuBytes, label: `GPU ${gib(gpuBytes, 1)}`, color: okabeIto.vermillion }] : [],
        yMax: Math.max(gpuBytes, dev.peakBytes),
        peakLabel: `peak ${formatGiB(dev.peakBytes)}`,
        // Past the last event (the window's right edge) the last event answers.
        eventAt: (x) => events.find((ev) => ev.t === Math.floor(x)) ?? events[Math.min(events.length - 1, Math.max(0, Math.floor(x)))],
      });
    });
    const terms = ["paramsBytes", "masterWeightsBytes", "gradsBytes", "optimizerBytes", "activationsBytes", "logitsBytes", "overheadBytes", "peakBytes"] as const;
    $(el, "#tr-table").innerHTML =
      `<thead><tr><th>device</th><th>layers</th>${terms.map((t) => `<th class="num">${t.replace("Bytes", "")}</th>`).join("")}<th>in-flight µbatches</th><th>CPU (offload)</th></tr></thead><tbody>` +
      report.devices.map((d) => `<tr><td>${d.stage}</td><td class="num">${d.numLayers}</td>${terms.map((t) => `<td class="num" title="${exactBytes(d[t])}">${gib(d[t])}</td>`).join("")}<td class="num">${d.inFlightMicroBatches}</td><td class="num">${gib(d.cpuBytes)}</td></tr>`).join("") +
      "</tbody>";
    $(el, "#tr-suggest").innerHTML = report.suggestions.length
      ? `<h3>single changes, each re-run through the accounting</h3>${report.suggestions.map((s) => `<div class="mono">${esc(s.change)} → ${formatGiB(s.peakBytes)} ${s.fits ? "✓ fits" : "still OOM"}</div>`).join("")}`
      : "";
    $(el, "#tr-notes").textContent = report.notes.join("\n");
  }

  const onResize = () => draw();
  window.addEventListener("resize", onResize);
  queueMicrotask(update);
  return { el, refresh: draw, destroy: () => window.removeEventListener("resize", onResize) };
}
